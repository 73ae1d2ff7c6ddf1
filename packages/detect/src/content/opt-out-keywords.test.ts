import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyReply, HELP_KEYWORDS, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from './opt-out-keywords.ts';

// Built once at collection: fast-check's first 'binary' unit costs about a second to set up.
const anyBody = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string());

describe('classifyReply', () => {
  it.each([...OPT_OUT_KEYWORDS])('treats the bare keyword %j as an opt-out', (keyword) => {
    expect(classifyReply(keyword)).toBe('opt_out');
    expect(classifyReply(keyword.toLowerCase())).toBe('opt_out');
  });

  it.each([
    'Stop.',
    'STOP!!',
    ' stop ',
    '"STOP"',
    'Stop all',
    'stop texting me',
    'please stop',
    'Pls stop!',
    'STOP sending',
    'Stop it',
    'STOP 2',
    'stop texting me please',
    'Please STOP texting me',
    'can you stop messaging me',
    'stop sending me these messages',
    'unsubscribe me',
    'I want to unsubscribe',
    'How do I unsubscribe?',
    'Opt-out',
    'opt out please',
    'Arrêt',
    'ARRET',
    'remove me from your list',
    'take me off this list',
    'no more texts',
    'Do not text me again',
    'ST\u200bOP',
    'ＳＴＯＰ',
    'SТОР',
    'UΝSUBSCRIBE',
  ])('recognises the opt-out %j', (reply) => {
    expect(classifyReply(reply)).toBe('opt_out');
  });

  it.each([
    "I can't stop laughing, see you at the end of the day",
    'See you at the end of the day',
    'cancel my appointment please',
    'quit your job?',
    'Stop by later',
    'stop at the shop on the way home',
    "don't stop",
    'I cant stop',
    'the bus stop is closed today',
    'stopwatch',
    'Thanks, got it',
    'Please send the invoice and do not forget the stop date for the contract we discussed',
    '',
    '!!!',
  ])('does not mistake %j for an opt-out', (reply) => {
    expect(classifyReply(reply)).not.toBe('opt_out');
  });

  it.each([...OPT_IN_KEYWORDS, 'start', 'Yes!', 'Unstop.'])('treats %j as an opt-in', (reply) => {
    expect(classifyReply(reply)).toBe('opt_in');
  });

  it.each([...HELP_KEYWORDS, 'help?', 'Info.', 'ayuda'])('treats %j as a help request', (reply) => {
    expect(classifyReply(reply)).toBe('help');
  });

  it('does not read a keyword inside a longer reply as opt-in or help', () => {
    expect(classifyReply('yes I will be there at 5')).toBe('other');
    expect(classifyReply('can you help me with my order')).toBe('other');
  });

  it("lets the provider's opt-out flag win over the text", () => {
    expect(classifyReply('Thanks, see you tomorrow', true)).toBe('opt_out');
    expect(classifyReply('START', true)).toBe('opt_out');
    expect(classifyReply('STOP', false), 'a false flag does not veto the keyword').toBe('opt_out');
  });

  it('treats very long bodies as conversation', () => {
    expect(classifyReply(`STOP${'!'.repeat(5_000)}`)).toBe('other');
  });

  it('never throws and always returns a known class', () => {
    const classes = new Set(['opt_out', 'opt_in', 'help', 'other']);
    fc.assert(
      fc.property(anyBody, fc.option(fc.boolean(), { nil: undefined }), (body, flag) => {
        expect(classes.has(classifyReply(body, flag))).toBe(true);
      }),
    );
  });

  it('is case-insensitive and ignores surrounding punctuation for every keyword', () => {
    const keyword = fc.constantFrom(...OPT_OUT_KEYWORDS, ...OPT_IN_KEYWORDS, ...HELP_KEYWORDS);
    const punctuation = fc.stringMatching(/^[ .!?"'()]{0,4}$/);
    fc.assert(
      fc.property(keyword, punctuation, punctuation, fc.boolean(), (kw, before, after, upper) => {
        const cased = upper ? kw.toUpperCase() : kw.toLowerCase();
        expect(classifyReply(before + cased + after)).toBe(classifyReply(kw));
      }),
    );
  });
});
