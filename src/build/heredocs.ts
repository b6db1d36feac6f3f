// Here-documents, as BuildKit's Dockerfile frontend defines them: in RUN, COPY and ADD (shell form only), a word
// `<<NAME` says that the lines after the instruction, up to a line that is NAME alone, are a document:
//
//   RUN <<EOF                COPY <<EOF /etc/motd       RUN python3 <<EOF > /out
//   echo one                 welcome                    print(1)
//   EOF                      EOF                        EOF
//
// `<<-NAME` takes the tabs off the start of each line (and of the closing one); a quoted name (`<<"EOF"`,
// `<<'EOF'`) keeps COPY from replacing variables in the content. A RUN that is one document alone runs its
// content as the shell's command, or, when it starts with `#!`, as a program of its own; any other RUN hands
// its line and its documents to the shell, which reads them itself. COPY and ADD copy each document as a file
// named NAME. dockerfile-ast finds where the documents are (dockerfile.ts); this is what they mean.
export interface Heredoc {
  /** The word after `<<`, quotes taken out: the line that ends the document. */
  name: string;
  /** `<<-`: the tabs that start its lines are not part of it. */
  chomp: boolean;
  /** The name was not quoted: COPY and ADD replace variables in the content. */
  expand: boolean;
  /** The lines between the instruction and the closing name, each with its newline, as written (tabs and
   *  all: a shell that reads a `<<-` document takes them off itself). */
  content: string;
}

/** What a word of an instruction says if it opens a document: BuildKit's pattern, `[FD]<<[-]NAME`. */
export function heredocWord(word: string): { name: string; chomp: boolean; expand: boolean; fd: string } | undefined {
  const match = /^(\d*)<<(-?)([^<]+)$/.exec(word);
  if (!match) return undefined;
  const [, fd, dash, rest] = match as unknown as [string, string, string, string];
  return { name: rest.replace(/["']/g, ''), chomp: dash === '-', expand: !/["']/.test(rest), fd };
}

/** A document's content as it is used: without the leading tabs of a `<<-` one. */
export function contentOf(heredoc: Heredoc): string {
  return heredoc.chomp ? heredoc.content.replace(/^\t+/gm, '') : heredoc.content;
}

/** RUN with documents: what the shell runs, and the program to run when the document is one (`#!`). */
export interface HeredocCommand {
  /** The shell's command: the document, or the line with its documents after it, or the program's path. */
  command: string;
  program?: { name: string; content: string };
}

/** Where a `#!` document is, inside RUN's container: a directory of its own, mounted read-only (BuildKit's). */
export const PROGRAM_DIR = '/dev/pipes';

// #region heredoc-run
/** `instruction`: a RUN's words (its shell form) and its documents (dockerfile.ts's Instruction). */
export function heredocCommand(instruction: { args: string; heredocs: Heredoc[] }): HeredocCommand {
  const [first] = instruction.heredocs;
  if (instruction.heredocs.length === 1 && heredocWord(instruction.args.trim())) {
    const content = contentOf(first!);
    // A program in another language (`#!/usr/bin/env python3`): run as a file, so that its first line counts.
    if (content.startsWith('#!')) return { command: `${PROGRAM_DIR}/${first!.name}`, program: { name: first!.name, content } };
    return { command: content };
  }
  // `python3 <<EOF > /out`: the shell reads the document itself, so it gets the line and the document as written.
  return { command: [instruction.args, ...instruction.heredocs.map((heredoc) => `${heredoc.content}${heredoc.name}`)].join('\n') };
}
// #endregion

/** How a progress line shows a RUN that is one document: its first line, as BuildKit shows it. */
export function heredocSummary(heredoc: Heredoc): string {
  const lines = heredoc.content.trim().split('\n');
  return lines.length > 1 ? `${lines[0]}...` : lines[0]!;
}
