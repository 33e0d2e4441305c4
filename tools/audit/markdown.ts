// GitHub-flavoured Markdown building blocks for the audit report.

/** Text that renders as itself: no emphasis, code, links or HTML from characters in the data. */
export function text(value: string): string {
  return value.replace(/[\\`*<>[\]]/g, (ch) => `\\${ch}`);
}

/** A table cell: text, with `|` escaped and line breaks kept as <br>. */
export function cell(value: string): string {
  return text(value).replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
}

export function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** "2025-11-24 10:00:14 UTC": the report's clock, the same on every machine. */
export function utc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)} UTC`;
}
