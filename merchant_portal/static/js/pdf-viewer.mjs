// The review screen's PDF pages: each cited PDF drawn page by page with pdf.js (vendored,
// no eval, fonts drawn as paths), so a reviewer reads receipts beside the rebuttal.
// A click on a page zooms it to full width and back.
import * as pdfjs from "../vendor/pdfjs-6.5.438/pdf.min.mjs";

const base = new URL("../vendor/pdfjs-6.5.438/", import.meta.url).href;
pdfjs.GlobalWorkerOptions.workerSrc = base + "pdf.worker.min.mjs";
const MAX_PAGES = 30;

async function show(box) {
  const status = box.querySelector("[data-pdf-status]");
  try {
    const pdf = await pdfjs.getDocument({
      url: box.dataset.pdfUrl, withCredentials: true, isEvalSupported: false,
      disableFontFace: true, enableXfa: false, cMapUrl: base + "cmaps/", cMapPacked: true,
      standardFontDataUrl: base + "standard_fonts/",
    }).promise;
    const pages = Math.min(pdf.numPages, MAX_PAGES);
    for (let number = 1; number <= pages; number++) {
      const page = await pdf.getPage(number);
      const natural = page.getViewport({ scale: 1 });
      const viewport = page.getViewport({ scale: Math.max(1, 900 / natural.width) });
      const canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.className = "pdf-page";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `${box.dataset.label} · ${number}/${pdf.numPages}`);
      canvas.addEventListener("click", () => canvas.classList.toggle("zoomed"));
      box.appendChild(canvas);
      await page.render({ canvas, viewport }).promise;
    }
    box.dataset.rendered = String(pages);
    if (status) status.remove();
  } catch (error) {
    if (status) status.textContent = box.dataset.failed;
    box.dataset.rendered = "failed";
  }
}

for (const box of document.querySelectorAll("[data-pdf-url]")) {
  show(box);
}
