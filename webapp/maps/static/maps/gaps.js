// The gap map's heat map: one focusable cell at a time (arrow keys move, Home/End go to the row's
// ends), and a details panel for the hovered or focused cell, written with textContent only.
(function () {
  "use strict";
  const table = document.getElementById("heat");
  const panel = document.getElementById("cell-detail");
  if (!table || !panel) return;
  const periods = table.dataset.periods ? table.dataset.periods.split("|") : [];
  const heads = table.tHead.rows[0].cells;  // heads[0] is the corner
  const data = JSON.parse(document.getElementById("heat-data").textContent);  // {counts, expected, history}: [row][column]

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function link(base, params, text) {
    const a = el("a", text);
    a.href = base + "?" + new URLSearchParams(params).toString();
    return a;
  }

  function show(cell) {
    const row = cell.parentElement;
    const problem = row.cells[0], method = heads[cell.cellIndex];
    panel.replaceChildren();
    const title = el("p");
    title.append(el("strong", problem.textContent.trim()), " × ", el("strong", method.textContent.trim()));
    panel.append(title);
    const r = row.sectionRowIndex, c = cell.cellIndex - 1;
    const count = data.counts[r][c], expected = data.expected[r][c];
    panel.append(el("p", `${count} paper${count === 1 ? "" : "s"}` +
      (expected ? `; ${expected} expected from the methods of related problems` : ""), "small"));
    const history = data.history[r][c];
    if (history.length === periods.length && history.length) {
      const list = el("ul", undefined, "history small");
      history.forEach((n, i) => list.append(el("li", `${periods[i]}: ${n}`)));
      panel.append(list);
    }
    const links = el("p", undefined, "small");
    links.append(link(table.dataset.inspireUrl, { problem: problem.dataset.text }, "Inspire me"), " · ",
      link(table.dataset.reportUrl, { problem: problem.dataset.text, method: method.dataset.text }, "Novelty report of this combination"));
    if (cell.dataset.gap) {
      const ranked = el("a", `under-explored #${cell.dataset.gap}`);
      ranked.href = "#gap-" + cell.dataset.gap;
      links.append(" · ", ranked);
    }
    panel.append(links);
    panel.dataset.cell = `${row.sectionRowIndex},${cell.cellIndex}`;  // for the browser tests
  }

  function move(cell, dr, dc) {
    const rows = table.tBodies[0].rows;
    const r = Math.min(Math.max(cell.parentElement.sectionRowIndex + dr, 0), rows.length - 1);
    const cells = rows[r].cells;
    const c = Math.min(Math.max(cell.cellIndex + dc, 1), cells.length - 1);
    return cells[c];
  }

  function focus(next, from) {
    if (!next || next === from) return;
    from.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }

  const KEYS = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  table.addEventListener("keydown", (event) => {
    const cell = event.target.closest("td");
    if (!cell) return;
    if (KEYS[event.key]) {
      focus(move(cell, ...KEYS[event.key]), cell);
    } else if (event.key === "Home" || event.key === "End") {
      const cells = cell.parentElement.cells;
      focus(cells[event.key === "Home" ? 1 : cells.length - 1], cell);
    } else if (event.key === "Enter") {
      show(cell);
      const first = panel.querySelector("a");
      if (first) first.focus();
    } else {
      return;
    }
    event.preventDefault();
  });
  table.addEventListener("focusin", (event) => { const cell = event.target.closest("td"); if (cell) show(cell); });
  table.addEventListener("mouseover", (event) => { const cell = event.target.closest("td"); if (cell) show(cell); });
  table.addEventListener("click", (event) => {
    const cell = event.target.closest("td");
    if (!cell) return;
    const current = table.querySelector("td[tabindex='0']");
    if (current) focus(cell, current); else cell.focus();
    show(cell);
  });
})();
