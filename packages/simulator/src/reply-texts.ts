/**
 * What recipients write back: opt-outs (keywords in any case, with punctuation, in sentences, in the
 * recipient's language), confirmations to reminders, and everyday replies. `isKeywordOptOut` marks
 * the replies a provider would itself classify as an opt-out.
 */
import type { Language } from './countries.ts';
import type { Prng } from './prng.ts';

interface WeightedTexts {
  readonly texts: readonly string[];
  readonly weights: readonly number[];
}

function weighted(entries: ReadonlyArray<readonly [string, number]>): WeightedTexts {
  return { texts: entries.map(([text]) => text), weights: entries.map(([, weight]) => weight) };
}

const englishOptOuts = weighted([
  ['STOP', 40],
  ['Stop', 18],
  ['stop', 14],
  ['Stop.', 4],
  ['STOP ', 2],
  ['UNSUBSCRIBE', 4],
  ['Unsubscribe', 2],
  ['STOPALL', 2],
  ['CANCEL', 2],
  ['END', 1],
  ['QUIT', 1],
  ['OPTOUT', 1],
  ['stop texting me', 3],
  ['Please stop', 2],
  ['Stop sending me these', 2],
  ['remove me from your list', 1],
]);

const optOutsByLanguage: Readonly<Record<Language, WeightedTexts>> = {
  en: englishOptOuts,
  es: weighted([
    ['BAJA', 30],
    ['Baja', 20],
    ['baja', 10],
    ['STOP', 20],
    ['Stop', 6],
    ['No más mensajes', 3],
  ]),
  pt: weighted([
    ['SAIR', 35],
    ['Sair', 20],
    ['sair', 10],
    ['STOP', 15],
    ['PARAR', 5],
    ['Pare de me mandar mensagem', 3],
  ]),
  fr: weighted([
    ['STOP', 45],
    ['Stop', 20],
    ['stop', 8],
    ['ARRÊT', 8],
    ['Arret', 3],
    ['STOP SMS', 6],
    ['Arrêtez de m’envoyer des messages', 2],
  ]),
  de: weighted([
    ['STOP', 45],
    ['Stop', 20],
    ['stopp', 6],
    ['ABMELDEN', 6],
    ['Abmelden', 4],
    ['Bitte keine SMS mehr', 2],
  ]),
};

const confirmationsByLanguage: Readonly<Record<Language, WeightedTexts>> = {
  en: weighted([
    ['C', 30],
    ['YES', 20],
    ['Yes', 20],
    ['yes', 10],
    ['Y', 8],
    ['Confirmed', 4],
    ['R', 4],
    ['NO', 3],
    ['Yes thank you', 3],
  ]),
  es: weighted([
    ['SI', 40],
    ['Si', 30],
    ['Sí', 15],
    ['si gracias', 5],
  ]),
  pt: weighted([
    ['SIM', 40],
    ['Sim', 35],
    ['sim obrigado', 8],
  ]),
  fr: weighted([
    ['OUI', 45],
    ['Oui', 35],
    ['oui merci', 8],
  ]),
  de: weighted([
    ['JA', 45],
    ['Ja', 35],
    ['ja danke', 8],
  ]),
};

const everydayReplies = weighted([
  ['Thanks', 12],
  ['ok', 12],
  ['Ok thanks', 6],
  ['who is this?', 6],
  ['Who is this', 3],
  ['YES', 4],
  ['👍', 4],
  ['?', 3],
  ['HELP', 2],
  ['INFO', 1],
  ['START', 1],
  ['wrong number', 2],
  ['Call me please', 1],
  ['I didn’t order anything', 1],
]);

/** Replies to unwanted or fraudulent texts: angry, confused, or reporting. */
const suspiciousReplies = weighted([
  ['who is this?', 10],
  ['Is this a scam?', 6],
  ['scam', 5],
  ['How did you get my number', 5],
  ['Reported as spam', 3],
  ['stop spamming me', 4],
  ['wrong number', 3],
  ['??', 3],
  ['I never ordered anything', 3],
  ['F off', 1],
]);

function pickText(rng: Prng, table: WeightedTexts): string {
  return table.texts[rng.weightedIndex(table.weights)] as string;
}

export function optOutReply(rng: Prng, language: Language): string {
  return pickText(rng, optOutsByLanguage[language]);
}

export function confirmationReply(rng: Prng, language: Language): string {
  return pickText(rng, confirmationsByLanguage[language]);
}

export function everydayReply(rng: Prng): string {
  return pickText(rng, everydayReplies);
}

export function suspiciousReply(rng: Prng): string {
  return pickText(rng, suspiciousReplies);
}

const providerKeywords: ReadonlySet<string> = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'REVOKE',
  'ARRET',
  'ARRÊT',
  'BAJA',
  'SAIR',
]);

/** True when the reply is a bare opt-out keyword (what providers classify without reading sentences). */
export function isKeywordOptOut(body: string): boolean {
  return providerKeywords.has(
    body
      .trim()
      .replace(/[.!]+$/, '')
      .toUpperCase(),
  );
}
