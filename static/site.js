/* Toolkit Exchange: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* The page's language: the server puts this script's words, translated, on <body>
     (data-messages); English pages carry none and the words below are used as they are. */
  const MESSAGES = JSON.parse(document.body.getAttribute("data-messages") || "{}");
  function tr(text, values) {
    const said = MESSAGES[text] || text;
    return values ? said.replace(/%\((\w+)\)s/g, function (all, key) { return values[key]; }) : said;
  }

  /* What people call each accepted format (the server's own labels, said the same way). */
  const TYPE_LABELS = {
    doc: "Word document", docx: "Word document", dotx: "Word template",
    xls: "Excel spreadsheet", xlsx: "Excel spreadsheet", xltx: "Excel template",
    ppt: "PowerPoint presentation", pptx: "PowerPoint presentation", potx: "PowerPoint template",
    odt: "OpenDocument text", ods: "OpenDocument spreadsheet", odp: "OpenDocument presentation",
    rtf: "Rich Text document", pdf: "PDF", txt: "Text file", csv: "CSV table", md: "Markdown text",
    png: "Image (PNG)", jpg: "Image (JPEG)", jpeg: "Image (JPEG)", gif: "Image (GIF)", webp: "Image (WebP)"
  };

  function humanSize(bytes) {
    if (bytes < 1024) return tr("%(num)s bytes", { num: bytes });
    const units = [tr("KB"), tr("MB"), tr("GB")];
    let value = bytes / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return value.toLocaleString(document.documentElement.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " " + units[unit];
  }

  function extension(file) {
    const parts = file.name.toLowerCase().split(".");
    return parts.length > 1 ? parts.pop() : "";
  }

  function typeLabel(file) {
    const ext = extension(file);
    if (TYPE_LABELS[ext]) return tr(TYPE_LABELS[ext]);
    return ext ? tr("%(ext)s file", { ext: ext.toUpperCase() }) : tr("File");
  }

  /* "Copy credit line" buttons. */
  function enhanceCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      const source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          const label = button.textContent;
          announce(tr("Credit line copied."));
          button.textContent = tr("Copied ✓");
          setTimeout(function () { button.textContent = label; }, 2500);
        });
      });
    });
  }

  /* Say something to screen readers through the page's status region. */
  function announce(message, region) {
    const target = region || document.querySelector(".flashes");
    if (!target) return;
    if (region) { region.textContent = message; return; }
    const p = document.createElement("p");
    p.className = "flash flash-success";
    p.textContent = message;
    target.replaceChildren(p);
  }

  /* Upload forms: drag and drop, a list of chosen files with "Remove", a progress bar,
     and files kept in the page when the server asks for a correction. The chosen files
     are held here rather than in the form, so they survive the server's answer replacing
     the form. */
  let keptFiles = [];

  function accepted(input) {
    return (input.getAttribute("accept") || "").split(",").map(function (a) {
      return a.trim().replace(/^\./, "").toLowerCase();
    }).filter(Boolean);
  }

  function fileProblem(file, allowed) {
    const ext = extension(file);
    if (allowed.length && allowed.indexOf(ext) < 0) {
      return ext ? tr("We don’t accept .%(ext)s files.", { ext: ext }) : tr("This file has no extension, so we can’t tell what it is.");
    }
    if (file.size === 0) return tr("This file is empty.");
    return "";
  }

  function totalSize() {
    return keptFiles.reduce(function (sum, f) { return sum + f.size; }, 0);
  }

  function fileItem(file, problem, onRemove) {
    const li = document.createElement("li");
    if (problem) li.className = "is-refused";
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = typeLabel(file) + " · " + humanSize(file.size);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button small";
    remove.textContent = tr("Remove");
    remove.setAttribute("aria-label", tr("Remove %(name)s", { name: file.name }));
    remove.addEventListener("click", onRemove);
    if (!problem && /^image\//.test(file.type) && window.URL && URL.createObjectURL) {
      const picture = document.createElement("img");
      picture.className = "file-preview";
      picture.alt = "";
      picture.src = URL.createObjectURL(file);
      picture.addEventListener("load", function () { URL.revokeObjectURL(picture.src); });
      li.append(picture);
    }
    li.append(name, meta, remove);
    if (problem) {
      const why = document.createElement("span");
      why.className = "file-problem";
      why.textContent = problem;
      li.append(why);
    }
    return li;
  }

  function enhanceUploadForm(form) {
    /* The drop zone's own input: an edit form also has one per file, for its new version,
       which the browser sends as it is. */
    const input = form.querySelector("[data-dropzone] input[type=file]");
    const list = form.querySelector("[data-file-list]");
    const zone = form.querySelector("[data-dropzone]");
    const announcer = form.querySelector("[data-file-announcer]");
    if (!input || !list || !window.FormData || !window.XMLHttpRequest) return;
    const maxBytes = parseInt(form.dataset.maxBytes || "0", 10);
    const allowed = accepted(input);
    let problems = 0;

    function render() {
      list.replaceChildren();
      problems = 0;
      keptFiles.forEach(function (file, index) {
        const problem = fileProblem(file, allowed);
        if (problem) problems += 1;
        list.append(fileItem(file, problem, function () {
          keptFiles.splice(index, 1);
          render();
          input.focus();
          announce(tr("%(name)s removed.", { name: file.name }), announcer);
        }));
      });
      if (maxBytes && totalSize() > maxBytes) {
        problems += 1;
        const warn = document.createElement("li");
        warn.className = "error";
        warn.textContent = tr("These files add up to %(total)s, over the %(limit)s limit. Please remove some.",
          { total: humanSize(totalSize()), limit: humanSize(maxBytes) });
        list.append(warn);
      }
      /* This script keeps chosen files, so the note for browsers that cannot is not needed. */
      const note = form.querySelector("[data-refile-note]");
      if (note) note.hidden = true;
    }

    function add(files) {
      const added = [];
      Array.prototype.forEach.call(files, function (file) {
        const duplicate = keptFiles.some(function (f) { return f.name === file.name && f.size === file.size; });
        if (!duplicate) { keptFiles.push(file); added.push(file.name); }
      });
      input.value = "";
      render();
      if (added.length) announce(tr("Added %(names)s.", { names: added.join(", ") }), announcer);
    }

    input.addEventListener("change", function () { add(input.files); });
    if (zone) enhanceDropZone(zone, add);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (problems) {
        render();
        input.focus();
        announce(tr("Please remove the files marked with a problem before sending."), announcer);
        return;
      }
      send(form, input);
    });
    render();
  }

  function enhanceDropZone(zone, add) {
    let depth = 0;
    zone.addEventListener("dragenter", function (event) {
      event.preventDefault();
      depth += 1;
      zone.classList.add("is-dragover");
    });
    zone.addEventListener("dragover", function (event) { event.preventDefault(); });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove("is-dragover");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      event.stopPropagation();
      depth = 0;
      zone.classList.remove("is-dragover");
      if (event.dataTransfer && event.dataTransfer.files) add(event.dataTransfer.files);
    });
  }

  /* A file dropped just beside the drop zone must not make the browser leave the form. */
  function guardAgainstStrayDrops() {
    if (!document.querySelector("form[data-upload-form]")) return;
    ["dragover", "drop"].forEach(function (type) {
      window.addEventListener(type, function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
          event.preventDefault();
        }
      });
    });
  }

  function send(form, input) {
    const data = new FormData(form);
    data.delete(input.name);
    keptFiles.forEach(function (file) { data.append(input.name, file, file.name); });
    const ui = progressUi(form);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) ui.show(Math.round((event.loaded / event.total) * 100));
    });
    xhr.upload.addEventListener("load", function () { ui.show(100); });
    xhr.addEventListener("load", function () { received(xhr); });
    xhr.addEventListener("error", function () {
      ui.stop();
      announce(tr("The upload was interrupted. Please check your connection and try again."));
    });
    ui.start();
    xhr.send(data);
  }

  /* The progress bar, its percentage, and a note that says what is happening. */
  function progressUi(form) {
    const box = form.querySelector("[data-progress]");
    const bar = box && box.querySelector("progress");
    const text = box && box.querySelector("[data-progress-text]");
    const note = box && box.querySelector("[data-progress-note]");
    const button = form.querySelector("button[type=submit]");
    function say(message) { if (note) note.textContent = message; }
    return {
      start: function () {
        if (button) button.disabled = true;
        if (box) box.hidden = false;
        say(tr("Sending your files…"));
      },
      show: function (percent) {
        if (!bar) return;
        bar.value = percent;
        text.textContent = percent + "%";
        if (percent >= 100) say(tr("Upload complete. Checking your files and making previews…"));
      },
      stop: function () {
        if (button) button.disabled = false;
        if (box) box.hidden = true;
      }
    };
  }

  function received(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("application/json") === 0) {
      window.location.assign(JSON.parse(xhr.responseText).redirect);
      return;
    }
    /* The server showed the page again with a problem named: swap it in, keep the files. */
    const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const main = page.querySelector("main");
    if (!main) return;
    document.querySelector("main").replaceWith(main);
    document.title = page.title;
    enhance(main);
    focusFirst(main, ["#error-summary", ".error-page h1", "h1"]);
  }

  /* Move focus to the first of these that exists, so a screen reader starts there. */
  function focusFirst(root, selectors) {
    for (let i = 0; i < selectors.length; i += 1) {
      const target = root.querySelector(selectors[i]);
      if (target) {
        if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
        target.focus();
        return target;
      }
    }
    return null;
  }

  /* Facets start folded on phones, so results come first. */
  function enhanceSearch(root) {
    const fold = root.querySelector(".facets-fold");
    if (fold && window.matchMedia("(max-width: 48rem)").matches) fold.open = false;
  }

  /* -- Catalogue and share form (browse, search, tags) -------------------------------- */

  /* Sorting applies as soon as another order is chosen; without the script the form has
     its own Sort button (in <noscript>). Arrow keys on a closed list change its value one
     step at a time, so a keyboard user's choice applies on Enter or on leaving the list,
     not at every step (nothing reloads under someone still choosing). */
  function enhanceSortForms(root) {
    root.querySelectorAll("form[data-sort-form] select").forEach(function (select) {
      let chosenByKeys = false;
      // The order this page was sent in (the option marked selected), whatever the list shows.
      const shownOption = Array.from(select.options).find(function (o) { return o.defaultSelected; });
      const shown = shownOption ? shownOption.value : select.options[0].value;
      const apply = function () { if (select.value !== shown) { select.form.submit(); } };
      select.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); apply(); } else { chosenByKeys = true; }
      });
      select.addEventListener("pointerdown", function () { chosenByKeys = false; });
      select.addEventListener("change", function () { if (!chosenByKeys) { apply(); } });
      select.addEventListener("blur", apply);
    });
  }

  function normalTag(text) {
    return text.trim().replace(/^[.;#]+|[.;#]+$/g, "").toLowerCase().split(/\s+/).filter(Boolean).join(" ");
  }

  /* The Tags field as chips you can remove, with suggestions that follow what is typed.
     The field people type in keeps its label ("Tags"); what is sent is a hidden field
     holding the same comma-separated list the plain field would have sent. */
  function enhanceTagInput(root) {
    const input = root.querySelector("input[data-tag-input]");
    if (!input || !input.name) return;
    const group = root.querySelector("[data-tag-suggestions]");
    const sent = document.createElement("input");
    sent.type = "hidden";
    sent.name = input.name;
    input.removeAttribute("name");
    const box = document.createElement("div");
    box.className = "tag-input";
    const chips = document.createElement("ul");
    chips.className = "tag-chips";
    chips.setAttribute("aria-label", tr("Chosen tags"));
    const status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.parentNode.insertBefore(box, input);
    box.append(chips, input);
    box.after(sent, status);
    let tags = [];

    function add(text) {
      text.split(/[,;]/).map(normalTag).filter(Boolean).forEach(function (tag) {
        if (tags.indexOf(tag) < 0) tags.push(tag);
      });
    }
    function remove(tag) {
      tags = tags.filter(function (t) { return t !== tag; });
      render();
      input.focus();
      announce(tr("Tag %(tag)s removed.", { tag: tag }), status);
    }
    function chip(tag) {
      const li = document.createElement("li");
      li.className = "tag-chip";
      const text = document.createElement("span");
      text.textContent = tag;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "tag-chip-remove";
      button.setAttribute("aria-label", tr("Remove tag %(tag)s", { tag: tag }));
      button.textContent = "×";
      button.addEventListener("click", function () { remove(tag); });
      li.append(text, button);
      return li;
    }
    function render() {
      chips.replaceChildren.apply(chips, tags.map(chip));
      const typed = normalTag(input.value);
      const pending = typed ? [typed] : [];
      sent.value = tags.concat(pending.filter(function (t) { return tags.indexOf(t) < 0; })).join(", ");
      if (group) suggest(typed);
    }
    function suggest(typed) {
      let shown = 0;
      group.querySelectorAll("[data-add-tag]").forEach(function (button) {
        const tag = button.dataset.addTag;
        const chosen = tags.indexOf(tag) >= 0;
        button.setAttribute("aria-pressed", chosen ? "true" : "false");
        const fits = typed ? tag.indexOf(typed) >= 0 : true;
        button.hidden = !(chosen || (fits && shown < 15));
        if (!button.hidden && !chosen) shown += 1;
      });
    }
    function commitTyped() {
      if (!normalTag(input.value)) return false;
      add(input.value);
      input.value = "";
      return true;
    }

    add(input.value);
    input.value = "";
    input.addEventListener("input", function () {
      if (/[,;]/.test(input.value)) {
        const parts = input.value.split(/[,;]/);
        const rest = parts.pop();
        add(parts.join(","));
        input.value = rest.replace(/^\s+/, "");
      }
      render();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && commitTyped()) {
        event.preventDefault();
        render();
      } else if (event.key === "Backspace" && !input.value && tags.length) {
        remove(tags[tags.length - 1]);
      }
    });
    /* Leaving the field keeps what was typed as a tag, unless for a suggestion, which
       takes its place. */
    input.addEventListener("blur", function (event) {
      if (group && event.relatedTarget && group.contains(event.relatedTarget)) return;
      if (commitTyped()) render();
    });
    box.addEventListener("click", function (event) { if (event.target === box || event.target === chips) input.focus(); });
    if (group) {
      group.hidden = false;
      group.querySelectorAll("[data-add-tag]").forEach(function (button) {
        button.addEventListener("click", function () {
          const tag = button.dataset.addTag;
          if (tags.indexOf(tag) >= 0) { remove(tag); return; }
          if (tag.indexOf(normalTag(input.value)) >= 0) { input.value = ""; } else { commitTyped(); }
          add(tag);
          render();
          announce(tr("Tag %(tag)s added.", { tag: tag }), status);
        });
      });
    }
    render();
  }

  function enhance(root) {
    enhanceSearch(root);
    enhanceCopyButtons(root);
    enhanceTagInput(root);
    enhanceSortForms(root);
    root.querySelectorAll("form[data-upload-form]").forEach(enhanceUploadForm);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    guardAgainstStrayDrops();
    /* After an action: the problems to fix first, else what the action did. */
    focusFirst(document, ["#error-summary", ".flashes .flash"]);
  });
})();
