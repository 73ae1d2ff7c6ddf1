/**
 * Message templates: text with `{slot}` placeholders, compiled once into literal/slot runs and
 * rendered per message by concatenation (the hot path of body generation). Slot values vary the
 * way real traffic varies (codes, names, amounts, link paths) while the template stays recognizable.
 */
import type { CountryInfo, Language } from './countries.ts';
import type { Prng } from './prng.ts';

export type MessagePurpose = 'otp' | 'transactional' | 'reminder' | 'marketing';

const slotNames = [
  'brand',
  'code',
  'name',
  'amount',
  'link',
  'domain',
  'token',
  'order',
  'date',
  'time',
  'percent',
  'minutes',
  'last4',
  'phone',
] as const;
export type SlotName = (typeof slotNames)[number];

export interface CompiledTemplate {
  readonly templateId: string;
  readonly purpose: MessagePurpose;
  /** literals[0] slot[0] literals[1] … slot[n-1] literals[n]. */
  readonly literals: readonly string[];
  readonly slots: readonly SlotName[];
  /** Domain that `{link}` and `{domain}` point at. */
  readonly linkDomain: string;
}

/** Sender-specific values a rendering needs besides random draws. */
export interface RenderContext {
  readonly brand: string;
  readonly country: CountryInfo;
  readonly language: Language;
  readonly codeLength: number;
  readonly supportPhone: string;
}

export class TemplateSyntaxError extends Error {
  readonly code = 'template_syntax';
}

const slotSet: ReadonlySet<string> = new Set(slotNames);

export function compileTemplate(
  templateId: string,
  purpose: MessagePurpose,
  text: string,
  linkDomain: string,
): CompiledTemplate {
  const literals: string[] = [];
  const slots: SlotName[] = [];
  let rest = text;
  for (;;) {
    const open = rest.indexOf('{');
    if (open < 0) break;
    const close = rest.indexOf('}', open);
    const name = close < 0 ? '' : rest.slice(open + 1, close);
    if (!slotSet.has(name)) {
      throw new TemplateSyntaxError(
        `template ${templateId}: unknown slot near "${rest.slice(open, open + 12)}"`,
      );
    }
    literals.push(rest.slice(0, open));
    slots.push(name as SlotName);
    rest = rest.slice(close + 1);
  }
  literals.push(rest);
  return { templateId, purpose, literals, slots, linkDomain };
}

const firstNames: Readonly<Record<Language, readonly string[]>> = {
  en: [
    'James',
    'Olivia',
    'Emma',
    'Liam',
    'Noah',
    'Ava',
    'Sophia',
    'Mia',
    'Lucas',
    'Ethan',
    'Grace',
    'Chloe',
    'Amara',
    'Priya',
    'Arjun',
    'Chinedu',
    'Tunde',
    'Aisha',
    'Jack',
    'Ruby',
    'Mark',
    'Joy',
    'Rahul',
    'Sam',
  ],
  es: [
    'Lucía',
    'Sofía',
    'Mateo',
    'Hugo',
    'Martina',
    'Pablo',
    'Valeria',
    'Diego',
    'Carmen',
    'Javier',
    'Ana',
    'Luis',
  ],
  pt: [
    'João',
    'Maria',
    'Ana',
    'Pedro',
    'Lucas',
    'Juliana',
    'Gabriel',
    'Beatriz',
    'Rafael',
    'Camila',
    'Bruno',
    'Larissa',
  ],
  fr: [
    'Camille',
    'Léa',
    'Louis',
    'Hugo',
    'Chloé',
    'Manon',
    'Lucas',
    'Emma',
    'Jules',
    'Inès',
    'Nathan',
    'Sarah',
  ],
  de: [
    'Lukas',
    'Anna',
    'Leon',
    'Marie',
    'Finn',
    'Sophie',
    'Jonas',
    'Laura',
    'Felix',
    'Lena',
    'Paul',
    'Julia',
  ],
};

const monthsEnglish = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const percents = [10, 15, 20, 20, 25, 30, 30, 40, 50, 60, 70];
const expiryMinutes = [5, 10, 10, 10, 15, 30];
const tokenAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** How many units of the local currency a typical small amount is (so amounts look local). */
function currencyScale(country: CountryInfo): number {
  switch (country.code) {
    case 'IN':
      return 80;
    case 'ID':
      return 15000;
    case 'NG':
      return 1500;
    case 'PH':
      return 55;
    case 'MX':
    case 'ZA':
      return 18;
    case 'BR':
      return 5;
    default:
      return 1;
  }
}

export function formatAmount(country: CountryInfo, value: number): string {
  const { symbol, after, decimalComma } = country.currency;
  const whole = currencyScale(country) >= 50;
  let digits = whole ? String(Math.round(value)) : value.toFixed(2);
  if (decimalComma) digits = digits.replace('.', ',');
  return after ? `${digits} ${symbol}` : `${symbol}${digits}`;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** `length` random digits, leading zeros kept (OTP codes, order numbers). */
function randomDigits(rng: Prng, length: number): string {
  let out = '';
  while (out.length < length) {
    out += String(rng.nextUint32() % 1_000_000_000).padStart(9, '0');
  }
  return out.slice(0, length);
}

function randomToken(rng: Prng, length: number): string {
  let out = '';
  let bits = 0;
  let pool = 0;
  while (out.length < length) {
    if (bits === 0) {
      pool = rng.nextUint32();
      bits = 5;
    }
    out += tokenAlphabet[pool % 62];
    pool = Math.floor(pool / 62);
    bits--;
  }
  return out;
}

function renderDate(rng: Prng, language: Language): string {
  const month = rng.int(0, 11);
  const day = rng.int(1, 28);
  switch (language) {
    case 'en':
      return `${monthsEnglish[month]} ${day}`;
    case 'de':
      return `${pad2(day)}.${pad2(month + 1)}.`;
    default:
      return `${pad2(day)}/${pad2(month + 1)}`;
  }
}

function renderTime(rng: Prng, language: Language): string {
  const hour = rng.int(8, 18);
  const minute = rng.pick([0, 0, 15, 30, 30, 45]);
  if (language === 'en') return `${hour > 12 ? hour - 12 : hour}:${pad2(minute)} ${hour >= 12 ? 'PM' : 'AM'}`;
  if (language === 'fr') return `${hour}h${pad2(minute)}`;
  return `${hour}:${pad2(minute)}`;
}

function renderSlot(slot: SlotName, template: CompiledTemplate, context: RenderContext, rng: Prng): string {
  switch (slot) {
    case 'brand':
      return context.brand;
    case 'code':
      return randomDigits(rng, context.codeLength);
    case 'name':
      return rng.pick(firstNames[context.language]);
    case 'amount':
      return formatAmount(context.country, rng.logNormal(25, 0.8) * currencyScale(context.country));
    case 'link':
      return `https://${template.linkDomain}/${randomToken(rng, rng.int(5, 8))}`;
    case 'domain':
      return template.linkDomain;
    case 'token':
      return randomToken(rng, rng.int(5, 9));
    case 'order':
      return rng.chance(0.7)
        ? `#${randomDigits(rng, rng.int(6, 8))}`
        : `${randomToken(rng, 3).toUpperCase()}-${randomDigits(rng, 5)}`;
    case 'date':
      return renderDate(rng, context.language);
    case 'time':
      return renderTime(rng, context.language);
    case 'percent':
      return String(rng.pick(percents));
    case 'minutes':
      return String(rng.pick(expiryMinutes));
    case 'last4':
      return randomDigits(rng, 4);
    case 'phone':
      return context.supportPhone;
  }
}

export function renderTemplate(template: CompiledTemplate, context: RenderContext, rng: Prng): string {
  const { literals, slots } = template;
  let out = literals[0] as string;
  // A code repeated in one message (WebOTP's "#123456" suffix) is the same code.
  let code: string | undefined;
  for (let index = 0; index < slots.length; index++) {
    const slot = slots[index] as SlotName;
    let value: string;
    if (slot === 'code') {
      code ??= renderSlot(slot, template, context, rng);
      value = code;
    } else {
      value = renderSlot(slot, template, context, rng);
    }
    out += value + (literals[index + 1] as string);
  }
  return out;
}
