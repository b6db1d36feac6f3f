// Variables in a Dockerfile: `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alternative}`, replaced by
// ENV and ARG values in the instructions Docker replaces them in (FROM, COPY, ENV, ARG, LABEL, WORKDIR, USER,
// EXPOSE, VOLUME, STOPSIGNAL), never in RUN, CMD or ENTRYPOINT, whose shell does it when the container runs.
// Quotes group and protect as in a shell and are removed: 'single' keeps `$` as it is, "double" does not.
//
// dockerfile-ast parses the instructions but leaves their variables as written, so this is Docker's own
// word processor (moby/buildkit's shell lexer, ProcessWord), the part tsrun needs of it.

/** What a variable stands for; undefined when it has no value. `guarded`: the text says what to do then
 *  (`${NAME:-default}`), so no value is no mistake. */
export type Lookup = (name: string, guarded?: boolean) => string | undefined;

// #region expand
/** `text` with its variables replaced and its quotes and escapes taken out, as Docker's ProcessWord does. */
export function expandWord(text: string, lookup: Lookup, escape = '\\'): string {
  const lexer = new Lexer(text, lookup, escape);
  return lexer.word('');
}
// #endregion

/** A here-document's content with its variables replaced, as BuildKit replaces them there: quotes are text like
 *  any other, the escape character (always `\`) still keeps a `$` from being read. */
export function expandContent(text: string, lookup: Lookup): string {
  return new Lexer(text, lookup, '\\', false).word('');
}

/** The names of the variables `text` refers to, in order: a RUN's shell will read them. */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)].map((match) => (match[1] ?? match[2])!);
}

class Lexer {
  private at = 0;

  constructor(private readonly text: string, private readonly lookup: Lookup, private readonly escape: string, private readonly quotes = true) {}

  /** Characters until the end, or until one of `stops` outside quotes (the `}` that ends `${NAME:-word}`). */
  word(stops: string): string {
    let out = '';
    while (this.at < this.text.length && !stops.includes(this.text[this.at]!)) {
      const ch = this.text[this.at++]!;
      if (ch === this.escape) out += this.at < this.text.length ? this.text[this.at++] : ch;
      else if (ch === '\'' && this.quotes) out += this.until('\'');
      else if (ch === '"' && this.quotes) out += this.doubleQuoted();
      else if (ch === '$') out += this.variable();
      else out += ch;
    }
    return out;
  }

  /** Inside single quotes everything is itself, up to the closing quote. */
  private until(close: string): string {
    const end = this.text.indexOf(close, this.at);
    if (end < 0) throw new Error(`a ${close} is not closed`);
    const inside = this.text.slice(this.at, end);
    this.at = end + 1;
    return inside;
  }

  /** Inside double quotes variables are replaced; the escape character protects `"`, `$` and itself only. */
  private doubleQuoted(): string {
    let out = '';
    for (;;) {
      if (this.at >= this.text.length) throw new Error('a " is not closed');
      const ch = this.text[this.at++]!;
      if (ch === '"') return out;
      if (ch === this.escape && ['"', '$', this.escape].includes(this.text[this.at] ?? '')) out += this.text[this.at++];
      else if (ch === '$') out += this.variable();
      else out += ch;
    }
  }

  /** After a `$`: `NAME`, `{NAME}`, `{NAME:-word}`, `{NAME-word}`, `{NAME:+word}`, `{NAME+word}`; a `$`
   *  followed by anything else is a `$`. */
  private variable(): string {
    if (this.text[this.at] !== '{') {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at))?.[0];
      if (!name) return '$';
      this.at += name.length;
      return this.lookup(name) ?? '';
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at + 1))?.[0];
    if (!name) throw new Error(`bad substitution in ${JSON.stringify(this.text)}`);
    this.at += 1 + name.length;
    const next = this.text[this.at++];
    const value = this.lookup(name, next !== '}');
    if (next === '}') return value ?? '';
    const colon = next === ':';
    const operator = colon ? this.text[this.at++] : next;
    if (operator !== '-' && operator !== '+') throw new Error(`unsupported modifier in \${${name}${colon ? ':' : ''}${operator ?? ''}…}: tsrun knows :- and :+`);
    const word = this.word('}');
    if (this.text[this.at++] !== '}') throw new Error(`a \${ is not closed in ${JSON.stringify(this.text)}`);
    // With the colon, an empty value counts as none; without it, only an unset one.
    const isSet = colon ? value !== undefined && value !== '' : value !== undefined;
    return operator === '-' ? (isSet ? value! : word) : (isSet ? word : '');
  }
}
