// A JSX runtime that renders straight to an HTML string, just enough for MDX:
// @mdx-js/mdx compiles a lesson into calls to jsx(), and these calls build the
// page. No React: a lesson page is static HTML.
import { escapeHtml } from '../escape-html.js';

/** Already-rendered HTML, told apart from text that still needs escaping. */
export interface Html {
  html: string;
}

type Child = string | number | boolean | null | undefined | Html | Child[];
type Props = Record<string, unknown> & { children?: Child };
type Component = (props: Props) => Html;

const VOID_ELEMENTS = new Set(['br', 'hr', 'img', 'input', 'meta', 'link']);

export function raw(html: string): Html {
  return { html };
}

export function renderChildren(children: Child): string {
  if (children === null || children === undefined || typeof children === 'boolean') return '';
  if (Array.isArray(children)) return children.map(renderChildren).join('');
  if (typeof children === 'object') return children.html;
  return escapeHtml(String(children));
}

export function jsx(type: string | Component, props: Props): Html {
  if (typeof type === 'function') return type(props);
  const { children, ...attributes } = props;
  const attrs = Object.entries(attributes)
    .filter(([, value]) => value !== undefined && value !== null && value !== false)
    .map(([name, value]) => ` ${name === 'className' ? 'class' : name}="${escapeHtml(String(value))}"`)
    .join('');
  if (VOID_ELEMENTS.has(type)) return raw(`<${type}${attrs}>`);
  return raw(`<${type}${attrs}>${renderChildren(children)}</${type}>`);
}

export const jsxs = jsx;

export function Fragment(props: Props): Html {
  return raw(renderChildren(props.children));
}
