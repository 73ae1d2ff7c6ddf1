/** Masking for the few places a phone number must be shown to a person (CLI, console, alerts). */

/** '+447400123456' → '+4474•••••456': country and prefix stay readable, the subscriber part does not. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return '•'.repeat(phone.length);
  const keepHead = Math.min(5, phone.length - 6);
  return `${phone.slice(0, keepHead)}${'•'.repeat(phone.length - keepHead - 3)}${phone.slice(-3)}`;
}
