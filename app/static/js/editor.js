/* The rich-text editor of the office's article and announcement forms: Quill 2 (vendored by
   `make assets`, loaded on those pages only), wired here because the CSP allows no inline script.

   Markup (app/templates/study/admin/_editor.html): <div class="ed" data-editor data-msg-…>
   around the body <textarea>. The textarea stays the form field, so the server side is the same
   and, without JavaScript, the textarea is the editor. It keeps the HTML the server stored until
   the first edit (an item opened and saved untouched posts back exactly what it had); after an
   edit it holds toHtml(): the editor's contents in the allow-list's vocabulary, written exactly
   as app/study/sanitize.py's clean_html() writes it, so what is saved is stored byte for byte
   (tests/test_editor.py, tests/e2e/test_editor.py).

   The editor offers only what the allow-list keeps: headings h2–h4, paragraphs, bold, italic,
   ordered and bullet lists, quotes, http(s) links and images from this site (a path starting
   with one "/"). Pasted content outside that list is dropped on the way in, not on saving.

   Announcements (data-editor-format="<select id>"): the editor is shown while the format
   select says "html"; switching from plain text carries the text over as paragraphs, switching
   back carries the editor's text. */
(function () {
  "use strict";
  var Quill = window.Quill;
  if (!Quill) { return; }  // the vendored file is missing: the textarea keeps working
  var Delta = Quill.import("delta");

  var FORMATS = ["header", "bold", "italic", "list", "blockquote", "link", "image"];
  var TOOLBAR = [[{ header: 2 }, { header: 3 }, { header: 4 }], ["bold", "italic"],
                 [{ list: "ordered" }, { list: "bullet" }, "blockquote"], ["link", "image"], ["clean"]];
  /** Same rules as sanitize.py: a block tag makes a body structured; a link is http(s); an
      image is a path on this site. */
  var BLOCK_RE = /<(?:p|h[1-6]|ul|ol|li|blockquote)[\s>]/i;
  var HTTP_RE = /^https?:\/\//i;
  var SAME_SITE_RE = /^\/(?![\/\\])/;

  // Links: an address typed without a scheme is read as https://…, a path on this site as
  // this site's full address (the allow-list keeps http(s) links only); anything else
  // (mailto:, javascript:) becomes no link at all.
  var Link = Quill.import("formats/link");
  class SiteLink extends Link {
    static sanitize(url) {
      var value = String(url || "").trim();
      if (SAME_SITE_RE.test(value)) { value = window.location.origin + value; }
      else if (value && !/^[a-z][a-z0-9+.-]*:/i.test(value)) { value = "https://" + value.replace(/^\/+/, ""); }
      return HTTP_RE.test(value) ? value : "about:blank";
    }
  }
  Quill.register("formats/link", SiteLink, true);

  // Writes text as html5ever (nh3) does: &, <, > and no-break spaces escaped; quotes too in attributes.
  function esc(text, attr) {
    var s = String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\u00a0/g, "&nbsp;");
    return attr ? s.replace(/"/g, "&quot;") : s;
  }

  /** The inline HTML of one line (a Delta without its newline): <a> outside <strong> outside
      <em>, each opened once for a run of text that shares it. */
  function inlineHtml(line) {
    var out = "", open = [];
    line.ops.forEach(function (op) {
      var a = op.attributes || {}, want = [];
      var href = typeof a.link === "string" ? a.link.trim() : "";
      if (HTTP_RE.test(href)) { want.push({ key: "a " + href, open: '<a href="' + esc(href, true) + '" rel="noopener">', close: "</a>" }); }
      if (a.bold) { want.push({ key: "strong", open: "<strong>", close: "</strong>" }); }
      if (a.italic) { want.push({ key: "em", open: "<em>", close: "</em>" }); }
      var same = 0;
      while (same < open.length && same < want.length && open[same].key === want[same].key) { same += 1; }
      while (open.length > same) { out += open.pop().close; }
      for (var i = same; i < want.length; i += 1) { out += want[i].open; open.push(want[i]); }
      if (typeof op.insert === "string") {
        out += esc(op.insert);
      } else if (op.insert && typeof op.insert.image === "string" && SAME_SITE_RE.test(op.insert.image.trim())) {
        out += '<img src="' + esc(op.insert.image.trim(), true) + '" alt="' + esc(a.alt || "", true) + '">';
      }
    });
    while (open.length) { out += open.pop().close; }
    return out;
  }

  function isBlank(line) {
    return line.ops.every(function (op) {
      return typeof op.insert === "string" ? !op.insert.trim() : !(op.insert && op.insert.image);
    });
  }

  /** The editor's contents as stored HTML: one block per line (blank lines left out), list
      lines of one kind grouped into one list, blocks and list items one per source line. */
  function toHtml(quill) {
    var blocks = [], list = null;
    quill.getContents().eachLine(function (line, attrs) {
      if (isBlank(line)) { return; }
      var inner = inlineHtml(line);
      if (attrs.list) {
        var tag = attrs.list === "ordered" ? "ol" : "ul";
        if (!list || list.tag !== tag) { list = { tag: tag, items: [] }; blocks.push(list); }
        list.items.push("<li>" + inner + "</li>");
        return;
      }
      list = null;
      var block = attrs.header ? "h" + Math.min(4, Math.max(2, Number(attrs.header) || 2))
        : attrs.blockquote ? "blockquote" : "p";
      blocks.push("<" + block + ">" + inner + "</" + block + ">");
    });
    return blocks.map(function (b) {
      return typeof b === "string" ? b : "<" + b.tag + ">\n" + b.items.join("\n") + "\n</" + b.tag + ">";
    }).join("\n");
  }

  /** A body without block tags (plain text, possibly with inline tags) as one paragraph per
      non-blank line, the rule clean_html() applies when it stores one. */
  function textParagraphs(html) {
    var body = html.split(/(<[^>]*>)/).map(function (part) {
      return part.charAt(0) === "<" ? part : part.replace(/\s*\n\s*/g, "</p><p>");
    }).join("");
    return "<p>" + body + "</p>";
  }

  function load(quill, html) {
    html = html || "";
    if (html.trim() && !BLOCK_RE.test(html)) { html = textParagraphs(html); }
    quill.setContents(quill.clipboard.convert({ html: html }), "silent");
    quill.history.clear();
  }

  function onlyAllowed(quill) {
    // Images from elsewhere (data: URLs, other hosts) and links that are not http(s) are not
    // kept by the allow-list, so they are not taken in either.
    quill.clipboard.addMatcher("IMG", function (node, delta) {
      return SAME_SITE_RE.test((node.getAttribute("src") || "").trim()) ? delta : new Delta();
    });
    quill.clipboard.addMatcher("A", function (node, delta) {
      if (HTTP_RE.test(SiteLink.sanitize(node.getAttribute("href") || ""))) { return delta; }
      return new Delta(delta.ops.map(function (op) {
        if (!op.attributes || !op.attributes.link) { return op; }
        var attrs = Object.assign({}, op.attributes);
        delete attrs.link;
        return Object.assign({}, op, { attributes: Object.keys(attrs).length ? attrs : undefined });
      }));
    });
  }

  function imageHandler(msg) {
    return function () {
      var src = window.prompt(msg.imageSrc, "/");
      if (src === null) { return; }
      src = src.trim();
      if (!SAME_SITE_RE.test(src)) { window.alert(msg.imageRefused); return; }
      var alt = window.prompt(msg.imageAlt, "") || "";
      var range = this.quill.getSelection(true);
      this.quill.updateContents(new Delta().retain(range.index).delete(range.length)
        .insert({ image: src }, { alt: alt.trim() }), Quill.sources.USER);
      this.quill.setSelection(range.index + 1, Quill.sources.SILENT);
    };
  }

  function messages(el) {
    var msg = {};
    Object.keys(el.dataset).forEach(function (key) {
      if (key.indexOf("msg") === 0 && key.length > 3) { msg[key.charAt(3).toLowerCase() + key.slice(4)] = el.dataset[key]; }
    });
    return msg;
  }

  /** Chinese names on the toolbar (Quill labels its buttons with the format's English name)
      and on the link tooltip (Snow writes its words with CSS; editor.css reads them from these
      attributes). */
  function label(quill, box, msg) {
    var toolbar = quill.getModule("toolbar").container;
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", msg.toolbar || "");
    var names = { "ql-header-2": msg.h2, "ql-header-3": msg.h3, "ql-header-4": msg.h4, "ql-bold": msg.bold,
                  "ql-italic": msg.italic, "ql-list-ordered": msg.ordered, "ql-list-bullet": msg.bullet,
                  "ql-blockquote": msg.blockquote, "ql-link": msg.link, "ql-image": msg.image, "ql-clean": msg.clean };
    toolbar.querySelectorAll("button").forEach(function (btn) {
      var cls = Array.prototype.find.call(btn.classList, function (c) { return c.indexOf("ql-") === 0; });
      var name = names[cls + (btn.value ? "-" + btn.value : "")];
      if (name) { btn.setAttribute("aria-label", name); btn.title = name; }
    });
    var tip = box.querySelector(".ql-tooltip");
    if (tip) {
      tip.setAttribute("data-msg-visit", msg.linkVisit || "");
      tip.setAttribute("data-msg-enter", msg.linkEnter || "");
      var input = tip.querySelector("input[type=text]");
      if (input) { input.setAttribute("data-link", "https://"); input.setAttribute("aria-label", msg.linkEnter || ""); }
      var action = tip.querySelector("a.ql-action"), remove = tip.querySelector("a.ql-remove");
      [action, remove].forEach(function (a) { if (a) { a.setAttribute("href", "#"); a.setAttribute("role", "button"); } });
      if (action) { action.setAttribute("data-msg-edit", msg.linkEdit || ""); action.setAttribute("data-msg-save", msg.linkSave || ""); }
      if (remove) { remove.setAttribute("data-msg-remove", msg.linkRemove || ""); }
    }
    var editable = quill.root;
    editable.setAttribute("role", "textbox");
    editable.setAttribute("aria-multiline", "true");
    var lbl = box.querySelector("label");
    if (lbl) {
      if (!lbl.id) { lbl.id = box.querySelector("textarea").id + "-label"; }
      editable.setAttribute("aria-labelledby", lbl.id);
      lbl.addEventListener("click", function (ev) { ev.preventDefault(); quill.focus(); });
    }
  }

  function plainText(quill) {
    return quill.getText().replace(/\n+$/, "").replace(/\n/g, "\n\n");
  }

  function escapeText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function setup(box) {
    var textarea = box.querySelector("textarea");
    if (!textarea) { return; }
    var msg = messages(box);
    var mount = document.createElement("div");
    mount.className = "ed__area";
    textarea.insertAdjacentElement("afterend", mount);

    var keyboard = Quill.import("modules/keyboard");
    var autofill = keyboard.DEFAULTS.bindings["list autofill"];
    var quill = new Quill(mount, {
      theme: "snow",
      formats: FORMATS,
      placeholder: msg.placeholder || "",
      modules: {
        toolbar: { container: TOOLBAR, handlers: { image: imageHandler(msg) } },
        // No file drops or pastes: they would become data: images the allow-list does not keep.
        uploader: { mimetypes: [] },
        keyboard: {
          bindings: {
            // Tab leaves the editor (as in any form field) instead of typing a tab or indenting:
            // nested lists are not part of the allow-list's vocabulary here.
            tab: false, indent: false, outdent: false, "remove tab": false,
            "indent code-block": false, "outdent code-block": false,
            // "1. ", "- " and "* " start a list; "[ ]" (a checklist) is not offered.
            "list autofill": Object.assign({}, autofill, { prefix: /^\s*?(\d+\.|-|\*)$/ })
          }
        }
      }
    });
    onlyAllowed(quill);
    label(quill, box, msg);
    box.classList.add("is-ready");

    var select = box.dataset.editorFormat ? document.getElementById(box.dataset.editorFormat) : null;
    var rich = function () { return !select || select.value === "html"; };
    function show() {
      var on = rich();
      textarea.hidden = on;
      box.querySelector(".ql-toolbar").hidden = !on;
      mount.hidden = !on;
    }
    if (rich()) { load(quill, textarea.value); }
    show();

    quill.on("text-change", function () {
      if (rich()) { textarea.value = toHtml(quill); }
    });
    if (select) {
      select.addEventListener("change", function () {
        if (rich()) {
          load(quill, textParagraphs(escapeText(textarea.value)));
          textarea.value = toHtml(quill);
        } else {
          textarea.value = plainText(quill);
        }
        show();
      });
    }
    // Tests and the page itself can reach an editor through its box.
    box.editor = { quill: quill, toHtml: function () { return toHtml(quill); } };
  }

  function init() {
    document.querySelectorAll(".ed[data-editor]").forEach(setup);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
