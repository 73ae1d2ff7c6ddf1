/**
 * Classifies a recipient's reply as opt-out, opt-in, help or other (CTIA keywords plus Spanish and
 * French). Tolerant of case, accents, punctuation, invisible characters and look-alike letters, but
 * only short replies qualify: a keyword buried in a normal sentence ("can't stop laughing") is not
 * an opt-out. A provider flagging the reply as an opt-out wins; a flag of false does not overrule
 * the body (a recipient who texts STOP has opted out whatever the provider did with it). Never
 * throws.
 */
import { lowerAndFold, removeInvisibleChars } from './fold-text.ts';

export type ReplyClass = 'opt_out' | 'opt_in' | 'help' | 'other';

export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'STOP ALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'OPT OUT',
  'OPT-OUT',
  'REVOKE',
  'PARAR',
  'ALTO',
  'BAJA',
  'ARRET',
  'ARRÊT',
] as const;
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'YES', 'SUBSCRIBE'] as const;
export const HELP_KEYWORDS = ['HELP', 'INFO', 'AYUDA'] as const;

/**
 * Opt-out keywords that still mean opt-out when a few words follow ("STOP sending", "unsubscribe
 * me"). The others are everyday words ("end of the day", "cancel my order") and count only alone.
 */
const LEADING_OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'STOP ALL', 'UNSUBSCRIBE', 'OPTOUT', 'OPT OUT', 'ARRET'];
const MAX_WORDS_AFTER_LEADING_KEYWORD = 3;
/** "stop by later", "stop at the shop": a place or visit, not a request. */
const NOT_A_REQUEST_AFTER_KEYWORD: ReadonlySet<string> = new Set([
  'by',
  'at',
  'in',
  'over',
  'off',
  'for',
  'and',
]);

/** Replies longer than this are conversation, whatever keyword they contain. */
const MAX_SHORT_REPLY_WORDS = 6;
/** Ten concatenated SMS segments; longer bodies are never keyword replies and are not normalized. */
const MAX_REPLY_LENGTH = 1_600;
const CONTACT_VERBS: ReadonlySet<string> = new Set([
  'texting',
  'text',
  'texts',
  'txt',
  'txting',
  'sending',
  'send',
  'messaging',
  'message',
  'messages',
  'msg',
  'msgs',
  'contacting',
  'calling',
  'spamming',
  'emailing',
  'these',
  'this',
]);
/** Words before a final "stop" that make it a request: "please stop", "just stop". */
const POLITE_BEFORE_STOP: ReadonlySet<string> = new Set([
  'please',
  'pls',
  'plz',
  'just',
  'ok',
  'okay',
  'now',
]);
/** Multi-word opt-out requests matched anywhere in a short reply. */
const OPT_OUT_PHRASES = [
  'remove me',
  'take me off',
  'opt me out',
  'no more texts',
  'no more messages',
  'do not text',
  'dont text',
  'do not contact',
  'dont contact',
];

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;
const APOSTROPHES = /['’]/gu;
const COMBINING_MARKS = /\p{M}/gu;
/** One more word than any rule looks at: enough to know a reply is too long to classify. */
const WORD_LIMIT = MAX_SHORT_REPLY_WORDS + 1;

const OPT_OUT_PHRASE_SET = normalizedSet(OPT_OUT_KEYWORDS);
const OPT_IN_PHRASE_SET = normalizedSet(OPT_IN_KEYWORDS);
const HELP_PHRASE_SET = normalizedSet(HELP_KEYWORDS);
const LEADING_OPT_OUT_WORDS: readonly (readonly string[])[] = LEADING_OPT_OUT_KEYWORDS.map(wordsOf);
const OPT_OUT_PHRASE_WORDS: readonly (readonly string[])[] = OPT_OUT_PHRASES.map(wordsOf);

export function classifyReply(body: string, providerOptOut?: boolean): ReplyClass {
  if (providerOptOut === true) return 'opt_out';
  if (body.length > MAX_REPLY_LENGTH) return 'other';
  const words = wordsOf(body);
  if (words.length === 0 || words.length > MAX_SHORT_REPLY_WORDS) return 'other';
  const phrase = words.join(' ');
  if (OPT_OUT_PHRASE_SET.has(phrase)) return 'opt_out';
  if (OPT_IN_PHRASE_SET.has(phrase)) return 'opt_in';
  if (HELP_PHRASE_SET.has(phrase)) return 'help';
  return startsWithOptOutKeyword(words) || isShortOptOutRequest(words) ? 'opt_out' : 'other';
}

/** "STOP sending", "unsubscribe me", "stop texting me please". */
function startsWithOptOutKeyword(words: readonly string[]): boolean {
  for (const keyword of LEADING_OPT_OUT_WORDS) {
    const following = words.length - keyword.length;
    if (following < 0 || following > MAX_WORDS_AFTER_LEADING_KEYWORD) continue;
    if (!startsWithAt(words, keyword, 0)) continue;
    const next = words[keyword.length];
    if (next === undefined || !NOT_A_REQUEST_AFTER_KEYWORD.has(next)) return true;
  }
  return false;
}

/** "please stop", "can you stop texting me", "i want to unsubscribe", "remove me from your list". */
function isShortOptOutRequest(words: readonly string[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === 'unsubscribe' || word === 'optout') return true;
    if (word === 'stop') {
      const next = words[i + 1];
      if (next !== undefined && CONTACT_VERBS.has(next)) return true;
      const previous = words[i - 1];
      if (next === undefined && previous !== undefined && POLITE_BEFORE_STOP.has(previous)) return true;
    }
    for (const phrase of OPT_OUT_PHRASE_WORDS) {
      if (startsWithAt(words, phrase, i)) return true;
    }
  }
  return false;
}

function startsWithAt(words: readonly string[], prefix: readonly string[], at: number): boolean {
  if (at + prefix.length > words.length) return false;
  for (let j = 0; j < prefix.length; j++) {
    if (words[at + j] !== prefix[j]) return false;
  }
  return true;
}

/**
 * Lower-case, accent-free, look-alike-folded words, apostrophes dropped ("can't" → "cant"); stops
 * after WORD_LIMIT words because every rule needs a short reply.
 */
function wordsOf(text: string): string[] {
  const folded = lowerAndFold(removeInvisibleChars(text).normalize('NFKD').replace(COMBINING_MARKS, ''));
  const words: string[] = [];
  WORD.lastIndex = 0;
  for (
    let match = WORD.exec(folded);
    match !== null && words.length < WORD_LIMIT;
    match = WORD.exec(folded)
  ) {
    words.push(match[0].replace(APOSTROPHES, ''));
  }
  return words;
}

function normalizedSet(keywords: readonly string[]): ReadonlySet<string> {
  return new Set(keywords.map((keyword) => wordsOf(keyword).join(' ')));
}
