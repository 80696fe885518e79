/**
 * TCP socket states by the kernel's names, in the order of the `st` column of /proc/net/tcp
 * (1 = ESTABLISHED … 12 = NEW_SYN_RECV; include/net/tcp_states.h). A request socket (a
 * half-open connection) is listed there as SYN_RECV.
 */
export const TCP_STATES = [
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT1",
  "FIN_WAIT2",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "CLOSING",
  "NEW_SYN_RECV",
] as const;

export type TcpState = (typeof TCP_STATES)[number];

/** Socket count per state (states with none are left out). */
export type SocketStates = Partial<Record<TcpState, number>>;

/** The state named by /proc/net/tcp's hex `st` field, or undefined for an unknown number. */
export function tcpStateName(st: number): TcpState | undefined {
  return TCP_STATES[st - 1];
}
