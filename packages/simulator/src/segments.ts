/**
 * SMS segment count as providers bill it: GSM-7 text is 160 septets in one segment and 153 per part
 * when concatenated (extension characters take two septets); any other character switches the whole
 * message to UCS-2, 70 code units in one segment and 67 per part.
 */

const basicCharacters =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const extensionCharacters = '\f^{}\\[~]|€';

/** Septets per UTF-16 code unit: 1 basic, 2 extension, 0 not in GSM-7. Built once. */
const septetCost = new Uint8Array(65536);
for (const character of basicCharacters) septetCost[character.charCodeAt(0)] = 1;
for (const character of extensionCharacters) septetCost[character.charCodeAt(0)] = 2;

export function segmentCount(body: string): number {
  let septets = 0;
  for (let index = 0; index < body.length; index++) {
    const cost = septetCost[body.charCodeAt(index)] as number;
    if (cost === 0) {
      return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
    }
    septets += cost;
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}
