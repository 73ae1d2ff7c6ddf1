/**
 * Content analysis of message bodies: templating and masking, SimHash fingerprints, near-duplicate
 * clustering, reply-keyword classification and distinct counting. Everything here is pure and sync.
 */
export { HyperLogLog } from './hyperloglog.ts';
export { listedRegistrableDomain, registrableDomain } from './link-domains.ts';
export {
  type ClusterAssignment,
  NearDuplicateIndex,
  type NearDuplicateIndexOptions,
  type NearestMatch,
} from './lsh-index.ts';
export { type BodyTemplate, templateOf } from './normalize-body.ts';
export {
  classifyReply,
  HELP_KEYWORDS,
  OPT_IN_KEYWORDS,
  OPT_OUT_KEYWORDS,
  type ReplyClass,
} from './opt-out-keywords.ts';
export {
  type Fingerprint64,
  fingerprintFromHex,
  fingerprintToHex,
  hammingDistance,
  type SimhashOptions,
  simhash64,
} from './simhash.ts';
