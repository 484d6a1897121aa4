/* Kepu's site search, a web worker speaking Material's worker protocol
   (SETUP → READY, QUERY → RESULT), so Material's search box and result list stay.

   Why not Material's own worker: it segments a Chinese query against the lunr
   index and drops the last word (高血压 was searched as 高*, 健康档案 as 健康*),
   several words were a union, and hidden keyword tags showed as chips. Here:

   - every term of the query is required, matched as a string (疫苗 is found
     inside 流感疫苗, 高血压 never as 高 alone);
   - a term found nowhere as typed is split into the words the build's jieba
     segmentation used (the U+200B marks in the index) and then every word is
     required; a term is never reduced to its single characters;
   - 繁体 is folded to 简体 with the map the build wrote (config.kepu_variants);
   - pages rank by: every term as typed, the whole query in the title, each
     term in the title, a lesson rather than a list, then how often terms occur.
   Nothing is fetched here: the index comes from the page in the SETUP message. */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var HAN = /[\u4e00-\u9fff]/;
var MAX_RESULTS = 50;
var MAX_SECTIONS = 5;

var pages = [];       // [{location, title, text, lower, sections: [{location, title, text, lower}]}]
var words = {};       // jieba words (≥ 2 characters) seen in the index: word → true
var longest = 2;      // the longest such word, to bound the split
var variants = {};    // traditional character → simplified

var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };

function plain(html) {
  return String(html || "")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, function (_, name) { return ENTITIES[name]; })
    .replace(/\u200b/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

function collectWords(html) {
  String(html || "").replace(/<[^>]*>/g, " ").split(/[\u200b\s]+/).forEach(function (segment) {
    (segment.match(/[\u4e00-\u9fff]{2,}/g) || []).forEach(function (word) {
      words[word] = true;
      if (word.length > longest) longest = word.length;
    });
  });
}

function setup(data) {
  variants = (data.config && data.config.kepu_variants) || {};
  words = {};
  var byLocation = {};
  pages = [];
  (data.docs || []).forEach(function (doc) {
    collectWords(doc.title);
    collectWords(doc.text);
    var item = { location: doc.location, title: plain(doc.title), text: plain(doc.text) };
    item.lower = (item.title + " " + item.text).toLowerCase();
    var hash = doc.location.indexOf("#");
    var pageLocation = hash < 0 ? doc.location : doc.location.slice(0, hash);
    var page = byLocation[pageLocation];
    if (!page) {
      page = byLocation[pageLocation] = { location: pageLocation, title: "", text: "", sections: [], lower: "" };
      pages.push(page);
    }
    if (hash < 0) {
      page.title = item.title;
      page.text = item.text;
    } else {
      page.sections.push(item);
    }
  });
  pages.forEach(function (page) {
    page.lower = [page.title, page.text].concat(page.sections.map(function (s) { return s.title + " " + s.text; }))
      .join(" \n ").toLowerCase();
    page.titleLower = page.title.toLowerCase();
  });
}

// Full-width letters and digits to ASCII, 繁体 to 简体, lower case.
function fold(query) {
  var out = "";
  var text = query.normalize ? query.normalize("NFKC") : query;
  for (var i = 0; i < text.length; i++) {
    var c = text.charAt(i);
    out += variants[c] || c;
  }
  return out.toLowerCase();
}

// Forward maximum matching over the index's own words: 流感疫苗接种 → 流感疫苗, 接种.
function split(term) {
  var parts = [];
  var i = 0;
  while (i < term.length) {
    var found = 1;
    for (var n = Math.min(longest, term.length - i); n >= 2; n--) {
      if (words[term.substr(i, n)]) { found = n; break; }
    }
    parts.push(term.substr(i, found));
    i += found;
  }
  return parts;
}

function count(haystack, needle) {
  var n = 0, at = haystack.indexOf(needle);
  while (at >= 0 && n < 20) { n++; at = haystack.indexOf(needle, at + needle.length); }
  return n;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function highlight(text, needles) {
  if (!needles.length) return escapeHtml(text);
  var pattern = new RegExp(needles.slice().sort(function (a, b) { return b.length - a.length; })
    .map(escapeRegExp).join("|"), "gi");
  var out = "", last = 0, match;
  while ((match = pattern.exec(text))) {
    out += escapeHtml(text.slice(last, match.index)) + "<mark>" + escapeHtml(match[0]) + "</mark>";
    last = match.index + match[0].length;
    if (!match[0].length) pattern.lastIndex++;
  }
  return out + escapeHtml(text.slice(last));
}

// About 120 characters around the first match, so a phone shows why the page matched.
function snippet(text, needles) {
  var lower = text.toLowerCase();
  var at = -1;
  needles.forEach(function (needle) {
    var i = lower.indexOf(needle);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  });
  if (at < 0) return highlight(text.slice(0, 120), needles);
  var start = Math.max(0, at - 30);
  var piece = text.slice(start, start + 120);
  return (start > 0 ? "…" : "") + highlight(piece, needles) + (start + 120 < text.length ? "…" : "");
}

function search(query) {
  var folded = fold(String(query || "")).trim();
  var terms = folded.split(/[\s,，、;；。!?！？:：]+/).filter(function (term, i, all) {
    return term && all.indexOf(term) === i;
  });
  if (!terms.length) return { items: [] };
  var whole = terms.join("");
  var scored = [];
  pages.forEach(function (page) {
    var score = 0, needles = [], exact = true;
    for (var t = 0; t < terms.length; t++) {
      var term = terms[t];
      if (page.lower.indexOf(term) >= 0) {
        needles.push(term);
        if (page.titleLower.indexOf(term) >= 0) score += 200;
        score += 5 * count(page.lower, term);
        continue;
      }
      exact = false;
      // Not found as typed: a longer Chinese term may still be there as its words.
      if (term.length < 3 || !HAN.test(term)) return;
      var parts = split(term).filter(function (part) { return part.length >= 2 || !HAN.test(part); });
      if (parts.length < 2) return;
      for (var p = 0; p < parts.length; p++) {
        if (page.lower.indexOf(parts[p]) < 0) return;
        needles.push(parts[p]);
        if (page.titleLower.indexOf(parts[p]) >= 0) score += 40;
        score += 2 * count(page.lower, parts[p]);
      }
    }
    if (exact) score += 1000;
    if (page.titleLower.indexOf(whole) >= 0) score += 500;
    if (/^lessons\//.test(page.location)) score += 100;
    scored.push({ page: page, score: score, needles: needles });
  });
  scored.sort(function (a, b) {
    return b.score - a.score || a.page.title.length - b.page.title.length ||
      (a.page.location < b.page.location ? -1 : 1);
  });
  var items = scored.slice(0, MAX_RESULTS).map(function (hit) {
    var page = hit.page, needles = hit.needles;
    var marks = {};
    needles.forEach(function (needle) { marks[needle] = true; });
    var sections = page.sections.filter(function (section) {
      return needles.some(function (needle) { return section.lower.indexOf(needle) >= 0; });
    });
    var best = sections.filter(function (section) {
      return needles.every(function (needle) { return section.lower.indexOf(needle) >= 0; });
    })[0] || sections[0];
    var teaser = page.text.toLowerCase().indexOf(needles[0]) >= 0 || !best ? page.text : best.text;
    var article = {
      location: page.location,
      title: highlight(page.title, needles),
      text: snippet(teaser, needles),
      score: hit.score,
      terms: marks
    };
    // Sections rank below their page, so Material folds them under "more results on this page".
    var more = sections.slice(0, MAX_SECTIONS).map(function (section) {
      return {
        location: section.location,
        title: highlight(section.title, needles),
        text: snippet(section.text, needles),
        score: hit.score / 2,
        terms: marks
      };
    });
    return [article].concat(more);
  });
  return { items: items };
}

self.addEventListener("message", function (event) {
  var message = event.data || {};
  if (message.type === SETUP) {
    setup(message.data || {});
    self.postMessage({ type: READY });
  } else if (message.type === QUERY) {
    var result;
    try {
      result = search(message.data);
    } catch (e) {
      result = { items: [] };
    }
    self.postMessage({ type: RESULT, data: result });
  }
});
