/**
 * The counters worth a line in a summary or a plot: the ones a TCP failure moves (drops,
 * overflows, retransmits, resets, PAWS, conntrack). Byte and segment counts move in every run.
 */
export const NOTABLE_COUNTER =
  /ListenOverflows|ListenDrops|ReqQFull|Syncookies|PAWS|AbortOn|OutRsts|SynRetrans|RetransFail|InsertFailed|NfConntrackDrop|EmbryonicRsts|TWRecycled|AttemptFails/;
