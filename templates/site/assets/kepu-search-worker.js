/* Kepu's site search, a web worker speaking Material's worker protocol
   (SETUP → READY, QUERY → RESULT), so Material's search box and result list stay.

   Why not Material's own worker: it segments a Chinese query against the lunr
   index and drops the last word (高血压 was searched as 高*, 健康档案 as 健康*),
   several words were a union, and hidden keyword tags showed as chips. Here:

   - every term of the query is required, matched as a string (疫苗 is found
     inside 流感疫苗, 高血压 never as 高 alone);
   - a phrase found nowhere as typed is looked for with the punctuation between
     its characters left out (量得准管得住 finds "量得准，管得住"), and failing that
     split into the words the build's jieba segmentation used, every word then
     required; a term is never reduced to its single characters;
   - 繁体 is folded to 简体 with the map the build wrote (config.kepu_variants);
   - pages rank by: every term as typed, the whole query in the title, each
     term in the title (weighted by BM25F's title-length norm: the shorter the
     title, the more it is about the term), how often each term occurs
     (saturating, as BM25's tf), a lesson rather than a list, then the shorter
     title. The same score ranks the candidates on the shards' figures and the
     fetched pages on their text, so "更多结果" continues the same order.

   The index comes in pieces (builder/site/search_index.py): SETUP brings only a
   small manifest; a query fetches the shards of its character pairs (which pages
   have them), then the pages it shows (to check the match as a string and cut
   the snippet). Everything is fetched from the site's own folder, never another
   host, and kept in memory for the next query (the service worker keeps it for
   offline use).

   Every matching page can be reached: RESULT holds the first page of results
   (ten, which Material renders at once) and `total`, how many pages match, with
   `port`, a MessagePort on which kepu.js asks for the next page ("更多结果"):
   {more: ticket} → {ticket, items, total, exact, more}. Material's protocol is
   unchanged for it; the port is the page's own line to this worker. */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var HAN = /[\u4e00-\u9fff]/;
// Punctuation between Chinese characters a reader leaves out of a phrase (as search_index.PAUSE).
var PAUSE = /([\u4e00-\u9fff])[，、。；：！？,;:!?“”‘’「」『』]+ ?(?=[\u4e00-\u9fff])/g;
var PAUSE_CLASS = "(?:[，、。；：！？,;:!?“”‘’「」『』]+ ?)?";
var ACROSS = "~";  // the key prefix of a pair across punctuation, kept in the pair's shard
var FIRST_PAGE = 10;   // results in RESULT: Material renders ten at once, more only on scrolling
var MORE_PAGE = 20;    // results per "更多结果"
var MAX_SECTIONS = 5;

var MAX_FETCH = 200;   // pages fetched at most for one page of results (each ~2 KB gzip)
var MAX_KEYS = 16;     // character pairs looked up for one term
var MAX_TERMS = 8;     // terms of one query

var manifest = null;  // config.kepu_index: folder, shards, word_shards, pages, lessons, titles, repeats
var base = "";        // the pieces' folder, same origin as this worker
var variants = {};    // traditional character → simplified
var shards = {};      // shard number → promise of {gram: [title gaps, page gaps]}
var wordShards = {};  // shard number → promise of a set of words
var pageCache = {};   // page number → promise of {l, t, x, s, lower, titleLower}
var pageOrder = [];   // the cached page numbers, oldest first
var MAX_CACHED_PAGES = 400;  // a reader paging through thousands of results keeps the heap small
var latest = 0;       // the newest query: older answers are dropped
var current = null;   // the newest query's state, for "更多结果" (see nextPage)
var port = null;      // this worker's end of the line to kepu.js

function setup(data) {
  var config = (data && data.config) || {};
  variants = config.kepu_variants || {};
  manifest = config.kepu_index || null;
  shards = {}; wordShards = {}; pageCache = {}; pageOrder = [];
  if (manifest) base = new URL("../search/" + manifest.folder, self.location.href).href;
}

function fnv1a(text) {
  var hash = 0x811c9dc5;
  for (var i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function fetchJson(name) {
  return fetch(base + name, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error(name + ": " + response.status);
    return response.json();
  });
}

function shard(number) {
  if (!shards[number]) {
    shards[number] = fetchJson("g" + number + ".json");
    shards[number].catch(function () { delete shards[number]; });
  }
  return shards[number];
}

function wordShard(number) {
  if (!wordShards[number]) {
    wordShards[number] = fetchJson("w" + number + ".json").then(function (list) {
      var set = {};
      list.forEach(function (word) { set[word] = true; });
      return set;
    });
    wordShards[number].catch(function () { delete wordShards[number]; });
  }
  return wordShards[number];
}

function page(number) {
  if (!pageCache[number]) {
    pageOrder.push(number);
    // Pages already shown are in the list; the oldest are fetched again if ever needed.
    while (pageOrder.length > MAX_CACHED_PAGES) delete pageCache[pageOrder.shift()];
    pageCache[number] = fetchJson("p/" + number + ".json").then(function (item) {
      item.lower = [item.t, item.x].concat(item.s.map(function (s) { return s[1] + " " + s[2]; }))
        .join(" \n ").toLowerCase();
      item.titleLower = item.t.toLowerCase();
      item.joined = item.lower.replace(PAUSE, "$1");
      item.titleJoined = item.titleLower.replace(PAUSE, "$1");
      item.sections = item.s.map(function (s) {
        var lower = (s[1] + " " + s[2]).toLowerCase();
        return { location: s[0], title: s[1], text: s[2], lower: lower, joined: lower.replace(PAUSE, "$1") };
      });
      return item;
    });
    pageCache[number].catch(function () { delete pageCache[number]; });
  }
  return pageCache[number];
}

// The keys a term is looked up by, as the build made them: character pairs of each
// run of Chinese or of Latin letters and digits; a lone Chinese character itself.
function gramsOf(term) {
  var grams = [];
  (term.match(/[\u4e00-\u9fff]+|[a-z0-9]+/g) || []).forEach(function (run) {
    if (run.length === 1) {
      if (HAN.test(run)) grams.push(run);
      return;
    }
    for (var i = 0; i + 1 < run.length; i++) grams.push(run.substr(i, 2));
  });
  // A pasted paragraph would fetch a shard per pair: the first pairs narrow enough,
  // and the pages fetched are checked against the whole term anyway.
  return grams.filter(function (gram, i, all) { return all.indexOf(gram) === i; }).slice(0, MAX_KEYS);
}

// How often a key occurs in a page, one base-36 digit (0–9, a–z: at most 35).
function digit36(c) {
  return parseInt(c, 36);
}

function undoGaps(gaps) {
  var out = [], at = -1;
  for (var i = 0; i < gaps.length; i++) { at += gaps[i]; out.push(at); }
  return out;
}

function intersect(a, b) {
  var out = [], i = 0, j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { out.push(a[i]); i++; j++; } else if (a[i] < b[j]) i++; else j++;
  }
  return out;
}

// The same for pages with how often a key occurs: the fewer of the two is kept (an
// upper bound of how often the term occurs, for ranking before pages are fetched).
function intersectCounted(a, b) {
  var pages = [], times = [], i = 0, j = 0;
  while (i < a.pages.length && j < b.pages.length) {
    if (a.pages[i] === b.pages[j]) {
      pages.push(a.pages[i]); times.push(Math.min(a.times[i], b.times[j])); i++; j++;
    } else if (a.pages[i] < b.pages[j]) i++; else j++;
  }
  return { pages: pages, times: times };
}

function counted(entry) {
  return entry ? { pages: undoGaps(entry[1]), times: entry[2].split("").map(digit36), title: undoGaps(entry[0]) }
    : { pages: [], times: [], title: [] };
}

// Pages with a key or with it across punctuation: the union, times added.
function either(a, b) {
  var pages = [], times = [], i = 0, j = 0;
  while (i < a.pages.length || j < b.pages.length) {
    if (j >= b.pages.length || (i < a.pages.length && a.pages[i] < b.pages[j])) {
      pages.push(a.pages[i]); times.push(a.times[i]); i++;
    } else if (i >= a.pages.length || b.pages[j] < a.pages[i]) {
      pages.push(b.pages[j]); times.push(b.times[j]); j++;
    } else {
      pages.push(a.pages[i]); times.push(a.times[i] + b.times[j]); i++; j++;
    }
  }
  var title = [];
  i = 0; j = 0;
  while (i < a.title.length || j < b.title.length) {
    if (j >= b.title.length || (i < a.title.length && a.title[i] < b.title[j])) title.push(a.title[i++]);
    else if (i >= a.title.length || b.title[j] < a.title[i]) title.push(b.title[j++]);
    else { title.push(a.title[i]); i++; j++; }
  }
  return { pages: pages, times: times, title: title };
}

// {all: pages that have every key of the term, times: how often at most, title: those
// with every key in the title} (a superset: the pages shown are checked as strings).
// across: a pair may also span punctuation in the page (a phrase typed without it).
function lookup(term, across) {
  var grams = gramsOf(term);
  if (!grams.length) return Promise.resolve(null);
  return Promise.all(grams.map(function (gram) { return shard(fnv1a(gram) % manifest.shards); }))
    .then(function (loaded) {
      var all = null, title = null;
      for (var i = 0; i < grams.length; i++) {
        var entry = loaded[i][grams[i]];
        var found = across && grams[i].length === 2 ? either(counted(entry), counted(loaded[i][ACROSS + grams[i]])) : entry ? counted(entry) : null;
        if (!found || !found.pages.length) return { all: [], times: [], title: [] };
        all = all ? intersectCounted(all, found) : found;
        title = title ? intersect(title, found.title) : found.title;
      }
      return { all: all.pages, times: all.times, title: title };
    });
}

// Forward maximum matching over the build's own words: 流感疫苗接种 → 流感疫苗, 接种.
function split(term) {
  var starts = [];
  for (var i = 0; i < term.length; i++) starts.push(wordShard(fnv1a(term.charAt(i)) % manifest.word_shards));
  return Promise.all(starts).then(function (sets) {
    var parts = [], at = 0;
    while (at < term.length) {
      var found = 1;
      for (var n = term.length - at; n >= 2; n--) {
        if (sets[at][term.substr(at, n)]) { found = n; break; }
      }
      parts.push(term.substr(at, found));
      at += found;
    }
    return parts;
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

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// One pattern for every needle, longest first; a needle found across punctuation (`loose`)
// may have it between any two of its characters.
function needlePattern(needles, loose) {
  return new RegExp(needles.slice().sort(function (a, b) { return b.length - a.length; })
    .map(function (needle) {
      return loose[needle] ? needle.split("").map(escapeRegExp).join(PAUSE_CLASS) : escapeRegExp(needle);
    }).join("|"), "gi");
}

function highlight(text, needles, loose) {
  if (!needles.length) return escapeHtml(text);
  var pattern = needlePattern(needles, loose || {});
  var out = "", last = 0, match;
  while ((match = pattern.exec(text))) {
    out += escapeHtml(text.slice(last, match.index)) + "<mark>" + escapeHtml(match[0]) + "</mark>";
    last = match.index + match[0].length;
    if (!match[0].length) pattern.lastIndex++;
  }
  return out + escapeHtml(text.slice(last));
}

// About 120 characters around the first match, so a phone shows why the page matched.
function snippet(text, needles, loose) {
  var found = needles.length ? needlePattern(needles, loose || {}).exec(text) : null;
  if (!found) return highlight(text.slice(0, 120), needles, loose);
  var start = Math.max(0, found.index - 30);
  var piece = text.slice(start, start + 120);
  return (start > 0 ? "…" : "") + highlight(piece, needles, loose) + (start + 120 < text.length ? "…" : "");
}

function timesOf(hit, number) {
  var low = 0, high = hit.all.length - 1;
  while (low <= high) {
    var mid = (low + high) >> 1;
    if (hit.all[mid] === number) return hit.times[mid];
    if (hit.all[mid] < number) low = mid + 1; else high = mid - 1;
  }
  return 0;
}

function has(list, number) {
  var low = 0, high = list.length - 1;
  while (low <= high) {
    var mid = (low + high) >> 1;
    if (list[mid] === number) return true;
    if (list[mid] < number) low = mid + 1; else high = mid - 1;
  }
  return false;
}

// For each term: the pages that may have it as typed, or else (a longer Chinese
// term found nowhere as typed) the pages that may have all of its words.
function plan(term) {
  return lookup(term).then(function (exact) {
    if (!exact) return { term: term, exact: null, parts: null };  // nothing to look up (a lone letter)
    if (exact.all.length || term.length < 3 || !/^[\u4e00-\u9fff]+$/.test(term)) {
      return { term: term, exact: exact, parts: null };
    }
    return lookup(term, true).then(function (across) {
      if (across.all.length) return { term: term, exact: across, parts: null, across: true };
      return splitPlan(term, exact);
    });
  });
}

// A phrase nowhere, even across punctuation: the build's words it is made of, all required.
function splitPlan(term, exact) {
  return split(term).then(function (parts) {
    parts = parts.filter(function (part) { return part.length >= 2 || !HAN.test(part); }).slice(0, MAX_TERMS);
    if (parts.length < 2) return { term: term, exact: exact, parts: null };
    return Promise.all(parts.map(function (part) { return lookup(part); })).then(function (hits) {
      return { term: term, exact: exact, parts: parts, hits: hits };
    });
  });
}

function candidates(step) {
  if (!step.exact) return null;
  if (!step.parts) return step.exact.all;
  var all = null;
  step.hits.forEach(function (hit) {
    if (!hit) return;
    all = all ? intersect(all, hit.all) : hit.all;
  });
  return all || [];
}

// The page as fetched really has the term as typed (or all of its words).
function matches(item, step) {
  if ((step.across ? item.joined : item.lower).indexOf(step.term) >= 0) return true;
  return !!step.parts && step.parts.every(function (part) { return item.lower.indexOf(part) >= 0; });
}

// A term whose only key is itself (one pair, or one Chinese character): the pages
// listed under it are exactly those that have it, so they need no check to be counted.
function keyedWhole(term) {
  return term.length === 2 ? /^([\u4e00-\u9fff]{2}|[a-z0-9]{2})$/.test(term) : term.length === 1 && HAN.test(term);
}

function stepIsExact(step) {
  if (!step.exact) return true;
  return step.parts ? step.parts.every(keyedWhole) : keyedWhole(step.term);
}

// The query's state: every candidate page, ranked on the shards' figures; the
// pages are fetched and checked a page of results at a time (nextPage).
function search(query, ticket) {
  var folded = fold(String(query || "")).trim();
  var terms = folded.split(/[\s,，、;；。!?！？:：]+/).filter(function (term, i, all) {
    return term && all.indexOf(term) === i;
  });
  terms = terms.slice(0, MAX_TERMS);
  var state = { ticket: ticket, steps: [], ranked: [], cursor: 0, rejected: 0, exact: true };
  if (!terms.length || !manifest) return Promise.resolve(state);
  var whole = terms.join("");
  return Promise.all(terms.map(plan).concat([terms.length > 1 ? lookup(whole) : Promise.resolve(null)]))
    .then(function (steps) {
      var wholeHit = steps.pop() || (steps[0].exact && !steps[0].parts ? steps[0].exact : null);
      var pool = null;
      for (var t = 0; t < steps.length; t++) {
        var list = candidates(steps[t]);
        if (list) pool = pool ? intersect(pool, list) : list;
      }
      state.steps = steps;
      state.exact = steps.every(stepIsExact);
      if (!pool || !pool.length) return state;
      var titles = manifest.titles;
      state.ranked = pool.map(function (number) {
        var titleLength = titles.charCodeAt(number) - 48;
        var facts = { exact: true, wholeInTitle: !!wholeHit && has(wholeHit.title, number), terms: [] };
        steps.forEach(function (step) {
          if (!step.exact) return;
          if (!step.parts) {
            facts.terms.push({ title: has(step.exact.title, number), times: timesOf(step.exact, number) });
          } else {
            facts.exact = false;
            facts.terms.push({ parts: step.hits.map(function (hit) {
              return hit ? { title: has(hit.title, number), times: timesOf(hit, number) } : { title: false, times: 0 };
            }) });
          }
        });
        return { number: number, score: rank(facts, titleLength, number), titleLength: titleLength };
      });
      state.ranked.sort(function (a, b) {
        return b.score - a.score || a.titleLength - b.titleLength || a.number - b.number;
      });
      return state;
    });
}

// How many pages match: exact when every term is its own key or every candidate
// was checked; otherwise the candidates not yet found wanting (an upper bound).
function totalOf(state) {
  return state.ranked.length - state.rejected;
}

// The next `size` results: the best unchecked candidates are fetched a batch at a
// time and kept if they really match, then ranked again on their text.
function nextPage(state, size) {
  var kept = [], fetched = 0;
  function step() {
    if (kept.length >= size || state.cursor >= state.ranked.length || fetched >= MAX_FETCH) return finish();
    var batch = state.ranked.slice(state.cursor, state.cursor + size - kept.length);
    state.cursor += batch.length;
    fetched += batch.length;
    return Promise.all(batch.map(function (hit) { return page(hit.number); })).then(function (items) {
      items.forEach(function (item, i) {
        if (state.steps.every(function (s) { return matches(item, s); })) {
          kept.push({ item: item, number: batch[i].number, score: batch[i].score });
        } else {
          state.rejected++;
        }
      });
      return step();
    });
  }
  function finish() {
    kept.forEach(function (hit) { hit.score = fullScore(hit.item, state.steps, hit.number); });
    kept.sort(function (a, b) {
      return b.score - a.score || a.item.t.length - b.item.t.length || a.number - b.number;
    });
    var more = state.cursor < state.ranked.length;
    return {
      items: kept.map(function (hit) { return present(hit, state.steps); }),
      total: totalOf(state),
      exact: state.exact || !more,
      more: more,
      ticket: state.ticket
    };
  }
  return step();
}

var MAX_TIMES = 35;  // how often a key is counted at most, as in the shards (one base-36 digit)

function count(haystack, needle) {
  var n = 0, at = haystack.indexOf(needle);
  while (at >= 0 && n < MAX_TIMES) { n++; at = haystack.indexOf(needle, at + needle.length); }
  return n;
}

var AVERAGE_TITLE = 20;  // characters: titles are 10–30
// A term in the title, with BM25F's length norm on the title (k1 1.2, b 0.75): the shorter the
// title, the more it is about the term — 疫苗 in "流感不是普通感冒：每年接种流感疫苗" (17) above
// the same words after "第121课 " (23). 400 for a title of 8 characters or fewer, 250 at 30.
function titleWeight(length) {
  return 660 / (1 + 1.2 * (0.25 + 0.75 * Math.max(8, length) / AVERAGE_TITLE));
}

// How often a term occurs, saturating as BM25's tf: once 13, 4 times 36, 11 times 55, 23
// times 66, 28 times 68. Enough for 尘肺病 (肺 23 times) to pass 心肺复苏 (4 times, a shorter
// title) for 肺; not enough for a page that repeats 疫苗 to pass the shorter title with it.
function timesWeight(times) {
  return 80 * times / (times + 5);
}

// One score for a page, from the same facts whether read off the shards (candidates) or off
// the page's text (the results shown): every term as typed, the whole query in the title,
// each term in the title and how often, a lesson rather than a list.
// A title that repeats another page's ("第12课 认识高血压" beside 认识高血压, manifest.repeats)
// earns no title weight: the page is found by its text like any other, and each lesson
// shows once among the first results instead of a screen of the same title.
function rank(facts, titleLength, number) {
  var score = 0, titled = !manifest.repeats || manifest.repeats.charAt(number) !== "1";
  facts.terms.forEach(function (term) {
    if (term.parts) {
      term.parts.forEach(function (part) {
        if (part.title && titled) score += titleWeight(titleLength) / 5;
        score += timesWeight(part.times) / 5;
      });
    } else {
      if (term.title && titled) score += titleWeight(titleLength);
      score += timesWeight(term.times);
    }
  });
  if (facts.exact) score += 1000;
  if (facts.wholeInTitle && titled) score += 500;
  if (number < manifest.lessons) score += 200;  // above any title's weight difference: a lesson before a list
  return score;
}

// The pages shown are ranked again on their text, now at hand (the shards' figures are
// upper bounds for a longer term): the same score.
function fullScore(item, steps, number) {
  var facts = { exact: true, wholeInTitle: false, terms: [] }, whole = "", across = false;
  steps.forEach(function (step) {
    whole += step.term;
    across = across || !!step.across;
    var text = step.across ? item.joined : item.lower, title = step.across ? item.titleJoined : item.titleLower;
    if (text.indexOf(step.term) >= 0) {
      facts.terms.push({ title: title.indexOf(step.term) >= 0, times: count(text, step.term) });
      return;
    }
    facts.exact = false;
    facts.terms.push({ parts: (step.parts || []).map(function (part) {
      return { title: item.titleLower.indexOf(part) >= 0, times: count(item.lower, part) };
    }) });
  });
  facts.wholeInTitle = (across ? item.titleJoined : item.titleLower).indexOf(whole) >= 0;
  return rank(facts, Math.min(item.t.length, 60), number);
}

function present(hit, steps) {
  var item = hit.item, needles = [], loose = {};
  steps.forEach(function (step) {
    if ((step.across ? item.joined : item.lower).indexOf(step.term) >= 0) {
      needles.push(step.term);
      if (step.across) loose[step.term] = true;
    } else if (step.parts) {
      needles.push.apply(needles, step.parts);
    }
  });
  var marks = {};
  needles.forEach(function (needle) { marks[needle] = true; });
  function within(holder, needle) {
    return (loose[needle] ? holder.joined : holder.lower).indexOf(needle) >= 0;
  }
  var sections = item.sections.filter(function (section) {
    return needles.some(function (needle) { return within(section, needle); });
  });
  var best = sections.filter(function (section) {
    return needles.every(function (needle) { return within(section, needle); });
  })[0] || sections[0];
  var top = item.x.toLowerCase();
  var teaser = within({ lower: top, joined: top.replace(PAUSE, "$1") }, needles[0]) || !best ? item.x : best.text;
  var article = {
    location: item.l,
    title: highlight(item.t, needles, loose),
    text: snippet(teaser, needles, loose),
    score: hit.score,
    terms: marks
  };
  // Sections rank below their page, so Material folds them under "more results on this page".
  var more = sections.slice(0, MAX_SECTIONS).map(function (section) {
    return {
      location: section.location,
      title: highlight(section.title, needles, loose),
      text: snippet(section.text, needles, loose),
      score: hit.score / 2,
      terms: marks
    };
  });
  return [article].concat(more);
}

// A new line to kepu.js with every RESULT (the old one is closed): only this page
// holds its end, so "更多结果" reaches this worker and the newest query.
function newPort() {
  if (typeof MessageChannel !== "function") return null;
  if (port) port.close();
  var channel = new MessageChannel();
  port = channel.port1;
  port.onmessage = function (event) {
    var ask = event.data || {};
    var state = current;
    if (!state || ask.more !== state.ticket) return;
    nextPage(state, MORE_PAGE).catch(function () {
      return { items: [], total: totalOf(state), exact: false, more: false, ticket: state.ticket };
    }).then(function (answer) {
      if (current === state) channel.port1.postMessage(answer);
    });
  };
  return channel.port2;
}

self.addEventListener("message", function (event) {
  var message = event.data || {};
  if (message.type === SETUP) {
    setup(message.data || {});
    self.postMessage({ type: READY });
  } else if (message.type === QUERY) {
    var ticket = ++latest;
    search(message.data, ticket).then(function (state) {
      if (ticket !== latest) return null;
      current = state;
      return nextPage(state, FIRST_PAGE);
    }).catch(function () {
      return { items: [], total: 0, exact: true, more: false, ticket: ticket };
    }).then(function (result) {
      if (!result || ticket !== latest) return;
      var line = newPort();
      result.port = line;
      self.postMessage({ type: RESULT, data: result }, line ? [line] : []);
    });
  }
});
