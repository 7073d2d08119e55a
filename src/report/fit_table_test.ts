import assert from "node:assert/strict";
import { fitColumnWidths, renderTable, type TableColumn } from "./fit_table.ts";

const COLUMNS: TableColumn[] = [
  { header: "TASK" },
  { header: "ID", minWidth: 9, shrinkOrder: 2 },
  { header: "RESULT", minWidth: 10, shrinkOrder: 1 },
  { header: "N", numeric: true },
];
const ROWS = [["task_a", "4f09a2b1-1111-4000-8000-000000000001", `"${"x".repeat(30)}"`, "7"]];

Deno.test("fitColumnWidths() keeps natural widths when they fit or no width is known", () => {
  assert.deepEqual(fitColumnWidths(COLUMNS, ROWS, null), [6, 36, 32, 1]);
  assert.deepEqual(fitColumnWidths(COLUMNS, ROWS, 200), [6, 36, 32, 1]);
});

Deno.test("fitColumnWidths() shrinks RESULT first, then ID, never below their minimum", () => {
  // natural: 6 + 36 + 32 + 1 + 3 gaps of 2 = 81
  assert.deepEqual(fitColumnWidths(COLUMNS, ROWS, 71), [6, 36, 22, 1]);
  assert.deepEqual(fitColumnWidths(COLUMNS, ROWS, 40), [6, 17, 10, 1]);
  assert.deepEqual(fitColumnWidths(COLUMNS, ROWS, 10), [6, 9, 10, 1]);
});

Deno.test("renderTable() cuts cells with … and keeps every line within the width", () => {
  const lines = renderTable(COLUMNS, ROWS, { maxWidth: 40 });
  for (const line of lines) assert.ok(line.length <= 40, line);
  assert.equal(lines[1], `task_a  4f09a2b1-1111-40…  "xxxxxxxx…  7`);
});

Deno.test("renderTable() styles padded cells after fitting", () => {
  const lines = renderTable(COLUMNS, ROWS, {
    maxWidth: null,
    style: (padded, _cell, column, header) => header || column !== 3 ? padded : `<${padded}>`,
  });
  assert.match(lines[1], /<7>$/);
});
