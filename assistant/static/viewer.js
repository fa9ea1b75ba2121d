// The PDF viewer: shows one page of a cached document with PDF.js (bundled with the app) and
// highlights the quoted sentences on it. The quotes come in the query string (q=...) and are
// only ever searched for in the page's text, never put into the page as markup.

import { GlobalWorkerOptions, TextLayer, getDocument } from "./pdfjs/pdf.min.mjs";

GlobalWorkerOptions.workerSrc = new URL("./pdfjs/pdf.worker.min.mjs", import.meta.url).href;

const body = document.body;
const params = new URLSearchParams(window.location.search);
const quotes = params.getAll("q").filter((q) => q.trim());
const pageBox = document.getElementById("iga-page");
const status = document.getElementById("iga-viewer-status");
const number = document.getElementById("iga-page-number");
let pdf = null;
let current = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);

// Letters and digits only, lower case: the index's cleaned text and the PDF's raw text differ
// in line breaks, hyphens, spacing and ligatures, but not in these.
function normalised(strings) {
  const chars = [];
  const where = [];
  strings.forEach((text, item) => {
    for (let offset = 0; offset < text.length; offset += 1) {
      for (const c of text[offset].normalize("NFKC").toLowerCase()) {
        if (/[\p{L}\p{N}]/u.test(c)) {
          chars.push(c);
          where.push([item, offset]);
        }
      }
    }
  });
  return { text: chars.join(""), where };
}

// Where a quote lies in the page text: the whole of it, else its longest findable start or end
// (a quote may run on to the next page). Shorter than MIN_MATCH letters is not a match.
const MIN_MATCH = 30;
function locate(page, quote) {
  const wanted = normalised([quote]).text;
  for (let length = wanted.length; length > 0; ) {
    for (const piece of [wanted.slice(0, length), wanted.slice(wanted.length - length)]) {
      const at = page.text.indexOf(piece);
      if (at >= 0) return [at, at + piece.length - 1];
    }
    if (length <= MIN_MATCH) return null;
    length = Math.max(MIN_MATCH, Math.floor(length * 0.8));
  }
  return null;
}

// Wrap the located characters of each text item in <span class="highlight">.
function highlight(layer, page, ranges) {
  const marked = new Map(); // item -> [first offset, last offset]
  for (const [start, end] of ranges) {
    for (let i = start; i <= end; i += 1) {
      const [item, offset] = page.where[i];
      const span = marked.get(item) || [offset, offset];
      marked.set(item, [Math.min(span[0], offset), Math.max(span[1], offset)]);
    }
  }
  const spans = [];
  for (const [item, [first, last]] of marked) {
    const div = layer.textDivs[item];
    const text = layer.textContentItemsStr[item];
    const mark = document.createElement("span");
    mark.className = "highlight";
    mark.textContent = text.slice(first, last + 1);
    div.replaceChildren(text.slice(0, first), mark, text.slice(last + 1));
    spans.push(mark);
  }
  return spans;
}

async function show(pageNumber) {
  current = Math.min(Math.max(1, pageNumber), pdf.numPages);
  body.dataset.state = "rendering";
  number.textContent = `${current}`;
  document.getElementById("iga-prev").disabled = current <= 1;
  document.getElementById("iga-next").disabled = current >= pdf.numPages;
  const page = await pdf.getPage(current);
  const unscaled = page.getViewport({ scale: 1 });
  const scale = Math.min(2, Math.max(0.5, (pageBox.parentElement.clientWidth - 16) / unscaled.width));
  const viewport = page.getViewport({ scale });
  const ratio = window.devicePixelRatio || 1;

  const canvas = document.createElement("canvas");
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${Math.floor(viewport.width)}px`;
  canvas.style.height = `${Math.floor(viewport.height)}px`;
  canvas.setAttribute("aria-hidden", "true");
  const textBox = document.createElement("div");
  textBox.className = "textLayer";
  pageBox.replaceChildren(canvas, textBox);
  pageBox.style.width = `${Math.floor(viewport.width)}px`;
  pageBox.style.height = `${Math.floor(viewport.height)}px`;
  pageBox.style.setProperty("--total-scale-factor", `${scale}`);

  await page.render({
    canvasContext: canvas.getContext("2d"),
    canvas,
    viewport,
    transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0],
  }).promise;
  const layer = new TextLayer({
    textContentSource: await page.getTextContent(),
    container: textBox,
    viewport,
  });
  await layer.render();

  // Highlight the quotes on the cited page, and bring the first into view.
  let found = 0;
  if (quotes.length) {
    const text = normalised(layer.textContentItemsStr);
    const ranges = quotes.map((q) => locate(text, q)).filter((r) => r !== null);
    const spans = highlight(layer, text, ranges);
    found = ranges.length;
    if (spans.length) spans[0].scrollIntoView({ block: "center" });
    status.textContent = found
      ? `Page ${current} of ${pdf.numPages}: the quoted text is highlighted.`
      : `Page ${current} of ${pdf.numPages}: the quoted text was not found on this page; ` +
        "look for it nearby (Previous / Next).";
  } else {
    status.textContent = `Page ${current} of ${pdf.numPages}.`;
  }
  body.dataset.found = `${found}`;
  body.dataset.state = "ready";
}

document.getElementById("iga-prev").addEventListener("click", () => show(current - 1));
document.getElementById("iga-next").addEventListener("click", () => show(current + 1));

try {
  pdf = await getDocument({ url: body.dataset.file, useWasm: false }).promise;
  await show(current);
} catch (error) {
  body.dataset.state = "failed";
  status.textContent =
    `The document could not be shown here (${error.message}). ` +
    "Open the local copy in your browser's own viewer with the link above.";
}
