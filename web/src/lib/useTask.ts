/** The async-action pattern the pages share: mark busy, clear the error, run, keep what failed. */
import { useState } from "react";

/** Returns [busy, run]. `run(work)` sets busy, clears the error through `setError`, awaits
 * `work`, passes anything it throws to `setError`, and clears busy. The error state stays with
 * the caller so that several actions of one page can show (and clear) the same alert. */
export function useTask(setError: (error: unknown) => void): [boolean, (work: () => Promise<void>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return [busy, run];
}
