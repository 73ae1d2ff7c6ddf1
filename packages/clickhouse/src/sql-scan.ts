/**
 * Just enough of ClickHouse's lexer to reason about a statement's text without its parser: where
 * strings, quoted identifiers, heredocs and comments (`--`, `#`, nested block comments) are, so a
 * `;`, a keyword or a `{name:Type}` inside them is not taken for one. Used where the text decides
 * what may run (read-only statements, one statement per request) and where a SETTINGS clause goes.
 * An INSERT's inline data (after its top-level FORMAT name or VALUES) is not lexed: it is data.
 */

export interface StatementScan {
  /** The first keyword, upper-cased ('' for none). */
  keyword: string;
  /** The first four words outside parentheses, upper-cased (CREATE OR REPLACE TEMPORARY …). */
  leadingWords: string[];
  /** Whether anything but comments and whitespace follows a top-level `;`. */
  multiple: boolean;
  /** INSERT: offset of its top-level FORMAT or VALUES keyword (where a SETTINGS clause goes), or -1. */
  insertDataClause: number;
  /** INSERT … FORMAT x: the format's name. */
  insertFormat: string;
  /** A statement ending in `FORMAT x`: offset of that FORMAT keyword, or -1. */
  trailingFormat: number;
  /** Offset just after the statement's last token (before a trailing `;`, whitespace, comments). */
  end: number;
  /** `{name:Type}` query parameters outside strings and comments. */
  placeholders: { start: number; end: number; name: string; type: string }[];
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const PLACEHOLDER = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/y;
const HEREDOC = /\$([A-Za-z0-9_]*)\$/y;

export function scanStatement(sql: string): StatementScan {
  const scan: StatementScan = {
    keyword: '',
    leadingWords: [],
    multiple: false,
    insertDataClause: -1,
    insertFormat: '',
    trailingFormat: -1,
    end: 0,
    placeholders: [],
  };
  // The last tokens, to recognise `FORMAT name` at the end.
  let previousWord = '';
  let previousWordAt = -1;
  let formatAt = -1;
  let depth = 0;
  let ended = false;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    // Whitespace and comments.
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if ((c === '-' && next === '-') || (c === '#' && (next === ' ' || next === '!' || next === undefined))) {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      let nesting = 1;
      i += 2;
      while (i < n && nesting > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          nesting++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          nesting--;
          i += 2;
        } else i++;
      }
      continue;
    }
    // Anything else is a token: after a top-level `;` it makes a second statement.
    if (ended) {
      scan.multiple = true;
      break;
    }
    const start = i;
    if (c === ';' && depth === 0) {
      ended = true;
      i++;
      continue;
    }
    const heredoc = c === '$' ? matchAt(HEREDOC, sql, i) : null;
    const placeholder = c === '{' ? matchAt(PLACEHOLDER, sql, i) : null;
    const word = heredoc || placeholder ? null : matchAt(WORD, sql, i);
    if (c === "'" || c === '"' || c === '`') {
      i = quotedEnd(sql, i, c);
    } else if (heredoc) {
      const close = sql.indexOf(heredoc[0], i + heredoc[0].length);
      i = close < 0 ? n : close + heredoc[0].length;
    } else if (placeholder) {
      i += placeholder[0].length;
      scan.placeholders.push({
        start,
        end: i,
        name: placeholder[1] as string,
        type: placeholder[2] as string,
      });
    } else if (word) {
      i += word[0].length;
      const upper = word[0].toUpperCase();
      if (scan.keyword === '') scan.keyword = upper;
      if (depth === 0) {
        if (scan.leadingWords.length < 4) scan.leadingWords.push(upper);
        if (scan.keyword === 'INSERT' && upper === 'VALUES') {
          scan.insertDataClause = start;
          scan.end = n;
          return scan;
        }
        if (scan.keyword === 'INSERT' && previousWord === 'FORMAT') {
          scan.insertDataClause = previousWordAt;
          scan.insertFormat = word[0];
          scan.end = n;
          return scan;
        }
        formatAt = previousWord === 'FORMAT' ? previousWordAt : -1;
        previousWord = upper;
        previousWordAt = start;
      } else previousWord = '';
      scan.end = i;
      continue;
    } else {
      if (c === '(' || c === '[') depth++;
      else if ((c === ')' || c === ']') && depth > 0) depth--;
      i++;
    }
    previousWord = '';
    formatAt = -1;
    scan.end = i;
  }
  // `FORMAT name` as the last two tokens.
  if (formatAt >= 0 && previousWord !== '' && previousWordAt > formatAt) scan.trailingFormat = formatAt;
  return scan;
}

function matchAt(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(text);
}

/** Offset after the quoted string, identifier (backslash escapes, doubled quotes) starting at `at`. */
function quotedEnd(sql: string, at: number, quote: string): number {
  let i = at + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\') i += 2;
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}
