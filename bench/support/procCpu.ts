/**
 * CPU time from /proc (Linux), for the benches' "server CPU" figures: user + system seconds of a
 * process (`/proc/PID/stat`) or of one of its threads (`/proc/PID/task/TID/stat`).
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's stat files (USER_HZ: `getconf CLK_TCK`, 100 on Linux x86_64). */
const CLK_TCK = 100;

/** CPU seconds (utime + stime) the process `pid` — or the stat file `file` — has used; NaN when unreadable. */
export function cpuSeconds(pid: number | undefined, file = `/proc/${pid}/stat`): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(file, 'utf8');
    // After the command name, which is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}
