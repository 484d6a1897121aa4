/* Kepu site script: the 长辈版 (elder-friendly) switch, read aloud, offline reading
   and sharing on phones. No library, nothing from other hosts. */
(function () {
  "use strict";
  var KEY = "kepu-large-text"; // kept from the first 大字 switch, so readers keep their choice

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }
  function $$(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  // The site root, from Material's page configuration (pages sit at different depths).
  var root = (function () {
    try {
      var config = JSON.parse($("#__config").textContent);
      return new URL((config.base || ".") + "/", location.href);
    } catch (e) {
      return new URL("./", location.href);
    }
  })();
  // The same cache names as sw.js.
  var cachePrefix = "kepu:" + root.pathname + ":";

  /* ---- 长辈版: large text, large touch targets, high contrast, no animations ----
     The class is applied before first paint by the inline script in overrides/main.html. */

  function isLarge() {
    try {
      return window.localStorage.getItem(KEY) === "1";
    } catch (e) {
      return false;
    }
  }

  function apply(large) {
    document.documentElement.classList.toggle("kepu-large", large);
    var button = $(".kepu-text-size");
    if (button) {
      // A toggle keeps its one name; only aria-pressed says whether it is on (WAI-ARIA).
      button.setAttribute("aria-pressed", large ? "true" : "false");
      button.textContent = "长辈版";
      button.title = large ? "长辈版已打开，再点一次回到标准版" : "长辈版：大字、大按钮、高对比度";
    }
  }

  function addSwitch() {
    if ($(".kepu-text-size")) return;
    var header = $(".md-header__inner");
    if (!header) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "kepu-text-size";
    button.addEventListener("click", function () {
      var large = !document.documentElement.classList.contains("kepu-large");
      try {
        window.localStorage.setItem(KEY, large ? "1" : "0");
      } catch (e) {
        /* private mode: the switch still works for this page */
      }
      apply(large);
    });
    var search = header.querySelector(".md-search");
    header.insertBefore(button, search || null);
    apply(isLarge());
  }

  /* ---- 朗读: read the lesson aloud with the browser's own speech synthesis ---- */

  var READ_BLOCKS = "h1, h2, h3, h4, p, li, dt, dd, th, td, .admonition-title, figcaption";
  var READ_SKIP = ".kepu-tags, .kepu-actions, .kepu-review, .kepu-share, .headerlink, pre, code, script";

  function readableBlocks() {
    var content = $(".md-content .md-typeset");
    if (!content) return [];
    var blocks = $$(READ_BLOCKS, content).filter(function (el) {
      return !el.closest(READ_SKIP) && el.innerText.trim();
    });
    // A list item with paragraphs inside is read once, as a whole.
    return blocks.filter(function (el) {
      var parent = el.parentElement && el.parentElement.closest(READ_BLOCKS);
      return !(parent && content.contains(parent) && blocks.indexOf(parent) >= 0);
    });
  }

  // Some engines stop after a long utterance: speak sentence groups of ≤ 120 characters.
  function chunks(text) {
    var parts = text.replace(/\s+/g, " ").match(/[^。！？；!?;]+[。！？；!?;]*/g) || [text];
    var out = [];
    parts.forEach(function (part) {
      if (out.length && (out[out.length - 1] + part).length <= 120) out[out.length - 1] += part;
      else out.push(part);
    });
    return out;
  }

  function chineseVoice() {
    var voices = window.speechSynthesis.getVoices();
    var zh = voices.filter(function (v) {
      return /^zh|^cmn/i.test(v.lang);
    });
    return (
      zh.filter(function (v) {
        return /CN|Hans/i.test(v.lang);
      })[0] || zh[0] || null
    );
  }

  // The editors' dashboard: review age in days, counted in the reader's browser, so the
  // page itself never changes with the date (and carries no inline script of its own).
  function showReviewAge() {
    $$(".kepu-review-age[data-reviewed]").forEach(function (cell) {
      var days = Math.floor((Date.now() - Date.parse(cell.dataset.reviewed + "T00:00:00+08:00")) / 86400000);
      if (!isNaN(days)) cell.textContent = days + " 天";
    });
  }

  function addReadAloud() {
    var button = $("[data-search-exclude] > .kepu-read");
    if (!button) return;
    var synth = window.speechSynthesis;
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") {
      button.hidden = true; // already hidden by the class set in overrides/main.html
      return;
    }
    var reading = false;
    var current = null;

    function mark(el) {
      if (current) current.classList.remove("kepu-reading");
      current = el;
      if (el) el.classList.add("kepu-reading");
    }
    function stop() {
      reading = false;
      synth.cancel();
      mark(null);
      button.textContent = "朗读全文";
      button.setAttribute("aria-pressed", "false");
    }
    function start() {
      synth.cancel();
      reading = true;
      button.textContent = "停止朗读";
      button.setAttribute("aria-pressed", "true");
      var voice = chineseVoice();
      var queue = [];
      readableBlocks().forEach(function (el) {
        chunks(el.innerText.trim()).forEach(function (text) {
          queue.push([el, text]);
        });
      });
      queue.forEach(function (item, index) {
        var utterance = new window.SpeechSynthesisUtterance(item[1]);
        utterance.lang = voice ? voice.lang : "zh-CN";
        if (voice) utterance.voice = voice;
        utterance.rate = 0.9; // a little slower than usual, for older listeners
        utterance.onstart = function () {
          if (reading) mark(item[0]);
        };
        utterance.onerror = function (event) {
          if (event.error !== "interrupted" && event.error !== "canceled") stop();
        };
        if (index === queue.length - 1) utterance.onend = stop;
        synth.speak(utterance);
      });
      if (!queue.length) stop();
    }

    button.addEventListener("click", function () {
      if (reading) stop();
      else start();
    });
    window.addEventListener("pagehide", function () {
      if (reading) stop();
    });
    // Voices load late in some browsers; with voices but none for Chinese, reading would be gibberish.
    function check() {
      var voices = synth.getVoices();
      button.hidden = voices.length > 0 && !chineseVoice();
    }
    check();
    if (synth.addEventListener) synth.addEventListener("voiceschanged", check);
  }

  /* ---- Offline reading: the service worker, "save all", the offline page ---- */

  function registerWorker() {
    if (!("serviceWorker" in navigator) || !/^https?:$/.test(location.protocol)) return false;
    // Live preview (kepu serve): never cache, or edits would show one reload late.
    if (typeof window.livereload === "function") {
      navigator.serviceWorker.getRegistrations().then(function (registrations) {
        registrations.forEach(function (registration) {
          registration.unregister();
        });
      });
      return false;
    }
    navigator.serviceWorker.register(new URL("sw.js", root).href, { updateViaCache: "none" }).catch(function () {
      /* no service worker (private mode, old browser): the site still works online */
    });
    return true;
  }

  function megabytes(bytes) {
    var mb = bytes / 1048576;
    return (mb < 0.1 ? "不到 0.1" : mb < 10 ? mb.toFixed(1) : Math.round(mb)) + " MB";
  }

  function addSaveAll() {
    var section = $(".kepu-offline");
    if (!section || !window.caches) return;
    section.hidden = false;
    var status = $(".kepu-offline-status", section);
    var save = $(".kepu-offline-save", section);
    var confirm = $(".kepu-offline-confirm", section);
    var cancel = $(".kepu-offline-cancel", section);
    var listing = null;

    function buttons(asking) {
      save.hidden = asking;
      confirm.hidden = cancel.hidden = !asking;
    }

    // First the size, then the download: mobile data costs money.
    save.addEventListener("click", function () {
      save.disabled = true;
      status.textContent = "正在计算大小……";
      fetch(new URL("offline-files.json", root).href, { cache: "no-cache" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (data) {
          listing = data;
          status.textContent =
            "全部 " + data.lessons + " 课（共 " + data.pages.length + " 个页面" +
            (data.media.length ? "、" + data.media.length + " 张图片" : "") +
            "），需下载约 " + megabytes(data.download_bytes) + "，占用手机空间约 " + megabytes(data.bytes) +
            "。建议连上 Wi-Fi 后保存。";
          buttons(true);
          confirm.focus();
        })
        .catch(function () {
          status.textContent = "现在没有网络，连上网络后再试。";
        })
        .then(function () {
          save.disabled = false;
        });
    });
    cancel.addEventListener("click", function () {
      buttons(false);
      status.textContent = "";
      save.focus();
    });
    confirm.addEventListener("click", function () {
      buttons(false);
      save.disabled = true;
      saveAll(listing, function (done, total) {
        status.textContent = "正在保存：" + done + " / " + total;
      }).then(function (failed) {
        save.disabled = false;
        status.textContent = failed
          ? "已保存，但有 " + failed + " 个文件没下载成功，连上网络后再点一次即可补齐。"
          : "全部课程已保存，没有网络也能看。";
      });
    });
  }

  function saveAll(listing, progress) {
    var jobs = [];
    listing.pages.forEach(function (item) {
      jobs.push(["pages", item[0]]);
    });
    listing.media.forEach(function (item) {
      jobs.push(["media", item[0]]);
    });
    listing.data.forEach(function (item) {
      jobs.push(["data", item[0]]);
    });
    var done = 0;
    var failed = 0;
    var next = 0;
    function worker() {
      if (next >= jobs.length) return Promise.resolve();
      var job = jobs[next++];
      var url = new URL(job[1], root).href;
      return caches
        .open(cachePrefix + job[0])
        .then(function (cache) {
          return cache.match(url).then(function (hit) {
            if (hit && job[0] !== "data") return; // already saved
            return fetch(url, { cache: "no-cache" }).then(function (response) {
              if (!response.ok) throw new Error(response.status);
              return cache.put(url, response);
            });
          });
        })
        .catch(function () {
          failed += 1;
        })
        .then(function () {
          done += 1;
          progress(done, jobs.length);
          return worker();
        });
    }
    // A few at a time: quick on a good network, gentle on a weak one.
    return Promise.all([worker(), worker(), worker(), worker()]).then(function () {
      return failed;
    });
  }

  // On the offline page: what can be read without a network.
  function listSaved() {
    var list = $(".kepu-saved-list");
    if (!list || !window.caches) return;
    var from = new URLSearchParams(location.search).get("from");
    var retry = $(".kepu-retry-link");
    if (from && retry && new URL(from, location.href).origin === location.origin) {
      $("a", retry).href = from;
      retry.hidden = false;
    }
    caches
      .open(cachePrefix + "pages")
      .then(function (cache) {
        return cache.keys().then(function (requests) {
          return Promise.all(
            requests.map(function (request) {
              return cache.match(request).then(function (response) {
                return response.text().then(function (html) {
                  var title = (html.match(/<title>([^<]*)<\/title>/) || [])[1] || request.url;
                  return [request.url, new DOMParser().parseFromString(title, "text/html").body.textContent];
                });
              });
            }),
          );
        });
      })
      .then(function (pages) {
        pages = pages.filter(function (page) {
          return page[0].indexOf("/offline/") < 0;
        });
        pages.sort(function (a, b) {
          return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
        });
        pages.forEach(function (page) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = page[0];
          link.textContent = page[1];
          item.appendChild(link);
          list.appendChild(item);
        });
        var empty = $(".kepu-saved-empty");
        if (empty) empty.hidden = pages.length > 0;
      })
      .catch(function () {});
  }

  /* ---- Sharing on phones: QR code (in the page), flyer, video, group message ---- */

  function addShare() {
    // Data attributes are Kepu's own markup: a lesson may borrow the class, never these (PageGuard).
    var panel = $(".kepu-share[data-search-exclude]");
    if (!panel) return;
    var started = false;
    // The other outputs sit beside the site (the page's links say where, from site.url);
    // data-src is that place relative to this page, so they load from where the site is
    // served, never another host, and the links follow.
    $$("[data-src]", panel).forEach(function (part) {
      var url = new URL(part.getAttribute("data-src"), location.href).href;
      part.setAttribute("data-src", url);
      $$("a", part).forEach(function (link) { link.href = url; });
    });
    panel.addEventListener("toggle", function () {
      if (!panel.open || started) return;
      started = true; // load what exists, once, only when the reader asks for it
      var flyer = $(".kepu-share-flyer", panel);
      if (flyer) {
        var image = new Image();
        image.alt = "本课宣传单";
        image.decoding = "async";
        image.className = "kepu-share-image";
        image.onload = function () {
          flyer.insertBefore(image, flyer.firstChild);
          flyer.hidden = false;
        };
        image.src = flyer.getAttribute("data-src");
      }
      var video = $(".kepu-share-video", panel);
      if (video) {
        fetch(video.getAttribute("data-src"), { method: "HEAD" })
          .then(function (response) {
            if (!response.ok) return;
            var size = Number(response.headers.get("content-length"));
            var link = $("a", video);
            if (size) link.textContent += "（" + megabytes(size) + "）";
            video.hidden = false;
          })
          .catch(function () {});
      }
      var text = $(".kepu-share-text", panel);
      if (text) {
        fetch(text.getAttribute("data-src"))
          .then(function (response) {
            if (!response.ok) throw new Error(response.status);
            return response.text();
          })
          .then(function (message) {
            $(".kepu-group-text", text).textContent = message.trim();
            text.hidden = false;
          })
          .catch(function () {});
        var copy = $(".kepu-copy", text);
        copy.addEventListener("click", function () {
          var message = $(".kepu-group-text", text).textContent;
          var status = $(".kepu-copy-status", text);
          var done = function () {
            status.textContent = "已复制，可以粘贴到微信群";
          };
          if (navigator.clipboard && navigator.clipboard.writeText) {
            navigator.clipboard.writeText(message).then(done, function () {
              selectText($(".kepu-group-text", text));
              status.textContent = "已选中文字，请长按复制";
            });
          } else {
            selectText($(".kepu-group-text", text));
            status.textContent = "已选中文字，请长按复制";
          }
        });
      }
    });
  }

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  /* ---- Search as soon as the text changes, not only on a key release ----
     Material reads the query on keyup; Chinese typed with an IME (or pasted, or
     dictated) can end with no key event at all, and nothing was searched. On
     `input` outside a composition and on `compositionend` a keyup is replayed
     on the box, so Material reads the value again (it ignores an unchanged one). */

  function searchOnInput() {
    var box = $("input.md-search__input");
    if (!box) return;
    function changed() {
      box.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    }
    box.addEventListener("input", function (event) {
      if (!event.isComposing) changed();
    });
    box.addEventListener("compositionend", changed);
  }

  /* ---- How many were found, and "更多结果" ----
     Kepu's worker (kepu-search-worker.js) answers a query with its first ten
     results, `total` (how many pages match) and a MessagePort of its own. Material
     renders the ten and counts only those; here the count says how many pages
     match, and a button asks the worker, on that port, for the next twenty, which
     are appended to the same list in Material's own markup. A new query gives
     a new port and a new count (Material empties the list). */

  function searchTotalAndMore() {
    var result = $(".md-search-result[data-md-component=search-result]");
    var list = result && $("[data-search-results]", result);
    if (!list || !window.component$) return;
    var meta = $(".md-search-result__meta", result);
    var config = {};
    try {
      config = JSON.parse($("#__config").textContent);
    } catch (e) {}
    var translations = config.translations || {};
    var button = document.createElement("button");
    button.type = "button";
    button.className = "kepu-search-more";
    button.hidden = true;
    list.parentNode.insertBefore(button, list.nextSibling);
    var line = null, answer = null, shown = 0, waiting = false;

    function describe() {
      meta.textContent = (answer.exact ? "找到 " : "找到约 ") + answer.total + " 篇";
      button.hidden = !answer.more;
      button.disabled = waiting;
      button.textContent = waiting ? "正在加载…" : "更多结果（还有 " + Math.max(0, answer.total - shown) + " 篇）";
    }

    function link(item, level) {
      var url = new URL(item.location, new URL(config.base || ".", location.href));
      var terms = Object.keys(item.terms || {}).filter(function (term) { return item.terms[term]; });
      if (terms.length) url.searchParams.set("h", terms.join(" "));
      var a = document.createElement("a");
      a.href = url.href;
      a.className = "md-search-result__link";
      a.tabIndex = -1;
      // The title and text are the worker's markup (escaped, with <mark>), as Material inserts them.
      a.innerHTML = '<article class="md-search-result__article md-typeset" data-md-score="' +
        Number(item.score || 0).toFixed(2) + '">' +
        (level === 1 ? '<div class="md-search-result__icon md-icon"></div><h1>' : "<h2>") +
        item.title + (level === 1 ? "</h1>" : "</h2>") + item.text + "</article>";
      return a;
    }

    // One result as Material renders it: the page, then its matching sections folded.
    function render(group) {
      var li = document.createElement("li");
      li.className = "md-search-result__item";
      li.appendChild(link(group[0], 1));
      var sections = group.slice(1);
      if (sections.length) {
        var details = document.createElement("details");
        details.className = "md-search-result__more";
        var summary = document.createElement("summary");
        summary.tabIndex = -1;
        var label = document.createElement("div");
        label.textContent = sections.length === 1
          ? translations["search.result.more.one"] || "在该页上还有 1 个符合条件的结果"
          : (translations["search.result.more.other"] || "在该页上还有 # 个符合条件的结果").replace("#", sections.length);
        summary.appendChild(label);
        details.appendChild(summary);
        sections.forEach(function (section) { details.appendChild(link(section, 2)); });
        li.appendChild(details);
      }
      return li;
    }

    window.component$.subscribe(function (component) {
      if (!component || component.ref !== result || !("total" in component)) return;
      if (line && line !== component.port) line.close();
      line = component.port || null;
      answer = component;
      shown = (component.items || []).length;
      waiting = false;
      if (!shown) {
        button.hidden = true;  // Material's own "没有找到" or "键入以开始搜索" stays
        return;
      }
      if (line) {
        line.onmessage = function (event) {
          var more = event.data || {};
          if (more.ticket !== answer.ticket) return;
          (more.items || []).forEach(function (group) { list.appendChild(render(group)); });
          shown += (more.items || []).length;
          answer = { ticket: answer.ticket, total: more.total, exact: more.exact, more: more.more && !!line };
          waiting = false;
          describe();
        };
      } else {
        answer.more = false;  // no line to the worker (an old browser): the first results only
      }
      describe();
    });

    button.addEventListener("click", function () {
      if (!line || waiting || !answer || !answer.more) return;
      waiting = true;
      describe();
      line.postMessage({ more: answer.ticket });
    });
  }

  function start() {
    addSwitch();
    searchOnInput();
    searchTotalAndMore();
    // Material's search dialog has no name of its own (axe: aria-dialog-name).
    var dialog = $(".md-search[role=dialog]");
    if (dialog && !dialog.hasAttribute("aria-label")) dialog.setAttribute("aria-label", "搜索");
    addReadAloud();
    addShare();
    // The worker starts saving the shell and search index once the page itself has loaded.
    if (document.readyState === "complete") {
      if (registerWorker()) addSaveAll();
    } else {
      window.addEventListener("load", function () {
        if (registerWorker()) addSaveAll();
      });
    }
    listSaved();
    showReviewAge();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
