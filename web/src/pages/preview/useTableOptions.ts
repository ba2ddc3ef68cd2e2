/** Table names to suggest for a saved connection: its default schema's, or those of the
 * schema typed before a dot (`sales.` lists sales). Failures just mean no suggestions:
 * the field stays free text, and the preview reports a wrong name with the server's hint. */
import { useEffect, useState } from "react";
import { listTables, type TableItem } from "../../api/connections";

export default function useTableOptions(connectionId: string | undefined, text: string): TableItem[] {
  const [items, setItems] = useState<TableItem[]>([]);
  const dot = text.indexOf(".");
  const schema = dot > 0 ? text.slice(0, dot) : undefined;

  useEffect(() => {
    if (!connectionId) {
      setItems([]);
      return;
    }
    let live = true;
    const timer = window.setTimeout(() => {
      listTables(connectionId, schema).then((found) => live && setItems(found.items)).catch(() => live && setItems([]));
    }, 250);
    return () => { live = false; window.clearTimeout(timer); };
  }, [connectionId, schema]);

  return items;
}
