// Every stage runs inside a span named `tsrun.<stage>`. Only the OpenTelemetry
// API is loaded here: until an SDK is registered, spans are no-ops and cost
// next to nothing.
import { trace, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('tsrun');

export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
