/**
 * Texts that would do harm, or come out changed, if they reached a shell or a command line. The
 * Printer must carry each of them to the Pod byte for byte. Shared by the unit tests and the
 * real-cluster test.
 */

/** 16 ASCII bytes mixing shell syntax, a flag, quotes and control characters; ×256 = 4 KiB. */
const CHUNK = `$(id);-n'"\\\n\t\`x\``;

export const FOUR_KIB = CHUNK.repeat(4096 / CHUNK.length);

export const HOSTILE_TEXTS: ReadonlyArray<readonly [label: string, text: string]> = [
  ['command substitution', '$(rm -rf /)'],
  ['backticks', '`id` && echo pwned'],
  ['command separator', '; echo pwned'],
  ['a flag of echo', '-n'],
  ['a flag of every GNU tool', '--help'],
  ['variables', '${HOME} $PATH $0'],
  ['newlines', 'first line\nsecond line\n\nafter a blank line\n'],
  ['CRLF and tab', 'tab\there\r\nwindows line'],
  ['quotes and backslashes', `'single' "double" \\backslash\\ \\"escaped\\" \\n`],
  ['printf directives', '%s %n %x %%'],
  ['an environment assignment', 'PRINTER_TEXT=other\nPATH=/tmp'],
  ['surrounding spaces', '   padded   '],
  ['emoji and other scripts', '🖨️ Hello Kube! 👋🏽 Здравствуй, 世界 ‮reversed'],
  ['4 KiB', FOUR_KIB],
];
