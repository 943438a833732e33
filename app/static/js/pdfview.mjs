// Study PDFs drawn inside the reader page with PDF.js (served from /static/vendor/pdfjs, no CDN):
// one canvas per page at the width of the screen, drawn one after another. Nothing is framed, so
// every response keeps `frame-ancestors 'none'` (QUALITY A27), and the reader's heartbeat script
// (study.js) sees scrolling and touches on the pages like on any article.
const box = document.getElementById("st-doc");

async function show() {
  const status = box.querySelector(".st-doc__status");
  const pdfjs = await import(box.dataset.pdfjs);
  pdfjs.GlobalWorkerOptions.workerSrc = box.dataset.worker;
  const doc = await pdfjs.getDocument({
    url: box.dataset.src,
    isEvalSupported: false, // our CSP has no 'unsafe-eval'
    cMapUrl: box.dataset.cmaps,
    cMapPacked: true,
    standardFontDataUrl: box.dataset.fonts,
    // Image decoders (JBIG2 scans, JPEG 2000) in their JavaScript builds: WebAssembly would need
    // 'wasm-unsafe-eval' in the CSP, which the platform does not grant.
    wasmUrl: box.dataset.wasm,
    useWasm: false,
  }).promise;
  const pages = box.querySelector(".st-doc__pages");
  const ratio = window.devicePixelRatio || 1;
  for (let n = 1; n <= doc.numPages; n += 1) {
    const page = await doc.getPage(n);
    const scale = Math.max(1, pages.clientWidth) / page.getViewport({ scale: 1 }).width;
    const viewport = page.getViewport({ scale: scale * ratio });
    const canvas = document.createElement("canvas");
    canvas.className = "st-doc__page";
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", (box.dataset.msgPage || "{n}").replace("{n}", String(n)));
    pages.appendChild(canvas);
    await page.render({ canvas, viewport }).promise;
    if (n === 1) {
      status.hidden = true;
    }
  }
  box.dataset.pages = String(doc.numPages);
  box.classList.add("is-ready");
}

if (box && box.dataset.src) {
  show().catch(() => {
    const status = box.querySelector(".st-doc__status");
    status.hidden = false;
    status.textContent = box.dataset.msgError || "";
    box.classList.add("is-error");
  });
}
