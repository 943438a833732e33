/* The exam page: autosave with sequence numbers, a local copy, a server-driven timer.
 *
 * Rules (QUALITY E3, E4, E9, E12, E13, E20, E24):
 * - The server's remaining_seconds drives the countdown; the phone's clock is only used to
 *   measure time since the last sync, and every return to the page re-syncs.
 * - Every answer is queued and sent in order with a per-attempt seq; a send that fails is
 *   retried with the same seq (a replay the server treats as a no-op) before anything newer,
 *   so a retry can never overwrite a newer answer.
 * - Answers are mirrored in localStorage under the attempt id and re-sent after a reload,
 *   a reconnect or a forced new login.
 * - A few seconds before the deadline saving stops and the page submits with its answers.
 * - While the attempt is open, leaving the page asks first (beforeunload); the guard is removed
 *   before the page itself moves on (submit, auto-submit, a forced login).
 *
 * One question per screen, not a scroll grouped by type: on a 360×640 phone a question with
 * four options fills the screen anyway, so a grouped page is a long scroll where the officer
 * loses their place, and 上一题/下一题 sit in the thumb zone at the bottom. The 答题卡 (answer
 * sheet) is a bottom sheet that jumps to any question and shows answered / unanswered / flagged;
 * the unanswered list before 交卷 uses the same jump links. Without this script every question
 * is listed on one page (and the noscript note asks for JavaScript).
 */
(function () {
  "use strict";
  var root = document.getElementById("exam");
  if (!root || !window.App) { return; }
  var d = root.dataset;
  var storeKey = "exam-attempt:" + d.attemptId;
  var seq = parseInt(d.seq, 10) || 0;
  var deadlineAt = Date.now() + (parseInt(d.remaining, 10) || 0) * 1000;
  var queue = [];          // [{qid, answer, seq|null}] in the order they must reach the server
  var sending = false, retryDelay = 1000, retryTimer = null, finished = false, submitting = false;
  var closing = false;  // the last seconds: no more single saves, the submit carries them
  var timerEl = document.getElementById("exam-timer");
  var saveEl = document.getElementById("exam-save");
  function $(id) { return document.getElementById(id); }
  var qs = Array.prototype.slice.call(root.querySelectorAll(".exam-q"));
  var current = 0, openSheet = null;
  var flagKey = "exam-flags:" + d.attemptId;   // flags stay on this device, the server never sees them
  var flags = {};
  try { flags = JSON.parse(localStorage.getItem(flagKey)) || {}; } catch (e) { /* none */ }

  function guard(ev) { ev.preventDefault(); ev.returnValue = ""; return ""; }
  function unguard() { window.removeEventListener("beforeunload", guard); }
  window.addEventListener("beforeunload", guard);

  function load() { try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; } }
  var local = load();      // qid -> {answer, seq, saved}
  function persist() { try { localStorage.setItem(storeKey, JSON.stringify(local)); } catch (e) { /* full */ } }

  function setSave(state) {
    saveEl.className = "exam-bar__save is-" + state;
    saveEl.textContent = state === "saved" ? d.msgSaved : state === "saving" ? d.msgSaving : d.msgUnsaved;
  }

  function answerOf(li) {
    var type = li.getAttribute("data-type");
    if (type === "fill") {
      var v = li.querySelector("input").value.trim();
      return v ? [v] : null;
    }
    var keys = [];
    li.querySelectorAll("input:checked").forEach(function (i) { keys.push(i.value); });
    return keys.length ? keys.sort() : null;
  }

  function show(li, answer) {
    var type = li.getAttribute("data-type");
    if (type === "fill") { li.querySelector("input").value = answer ? answer[0] : ""; return; }
    li.querySelectorAll("input").forEach(function (i) { i.checked = !!answer && answer.indexOf(i.value) >= 0; });
  }

  // The progress bar, the answer sheet cells and the flag buttons, from the answers on the page.
  function countAnswered() {
    var n = 0;
    qs.forEach(function (li, i) {
      var qid = li.getAttribute("data-qid"), done = !!answerOf(li), cell = root.querySelector('.exam-cell[data-qid="' + qid + '"]');
      if (done) { n += 1; }
      cell.classList.toggle("is-answered", done);
      cell.classList.toggle("is-flagged", !!flags[qid]);
      cell.classList.toggle("is-current", i === current);
      cell.setAttribute("aria-label", (i + 1) + " " + (done ? d.msgAnswered : d.msgOpen) + (flags[qid] ? " " + d.msgFlag : ""));
      var btn = li.querySelector(".exam-flag");
      btn.setAttribute("aria-pressed", flags[qid] ? "true" : "false");
      btn.textContent = flags[qid] ? d.msgUnflag : d.msgFlag;
    });
    $("exam-progress").value = n;
    $("exam-count").textContent = n + "/" + qs.length;
    return n;
  }

  function showQuestion(i, moveFocus) {
    current = Math.max(0, Math.min(qs.length - 1, i));
    qs.forEach(function (li, k) { li.classList.toggle("is-current", k === current); });
    var last = current === qs.length - 1;
    $("exam-prev").disabled = current === 0;
    $("exam-next").hidden = last;
    $("exam-last").hidden = !last;
    $("exam-where").textContent = (current + 1) + "/" + qs.length;
    if (window.history.replaceState) { window.history.replaceState(null, "", "#" + qs[current].id); }
    countAnswered();
    window.scrollTo(0, 0);
    if (moveFocus) { qs[current].focus({ preventScroll: true }); }
  }

  function sheet(el) {
    if (openSheet) { openSheet.hidden = true; }
    openSheet = el;
    if (el) { el.hidden = false; el.querySelector("[data-close]").focus(); }
    $("exam-backdrop").hidden = !el;
    $("exam-sheet-open").setAttribute("aria-expanded", el && el.id === "exam-sheet" ? "true" : "false");
  }

  function links(listId, items) {
    var ol = $(listId);
    ol.innerHTML = "";
    items.forEach(function (li) {
      var a = root.querySelector('.exam-cell[data-qid="' + li.getAttribute("data-qid") + '"]').cloneNode(true);
      var item = document.createElement("li");
      item.appendChild(a);
      ol.appendChild(item);
    });
    ol.hidden = !items.length;
  }

  // Before 交卷: the unanswered (and flagged) questions as jump links, then the confirmation.
  function review() {
    countAnswered();
    var missing = qs.filter(function (li) { return !answerOf(li); });
    var flagged = qs.filter(function (li) { return flags[li.getAttribute("data-qid")]; });
    var box = $("exam-unanswered");
    box.textContent = (missing.length ? d.msgUnanswered : d.msgAll).replace("{n}", missing.length || qs.length);
    box.classList.toggle("is-done", !missing.length);
    links("exam-unanswered-links", missing);
    $("exam-flagged").hidden = !flagged.length;
    $("exam-flagged").textContent = d.msgFlagged.replace("{n}", flagged.length);
    links("exam-flagged-links", flagged);
    sheet($("exam-review"));
  }

  function enqueue(qid, answer) {
    queue = queue.filter(function (item) { return item.qid !== qid || item.seq !== null; });
    queue.push({ qid: qid, answer: answer, seq: null });
    local[qid] = { answer: answer, seq: null, saved: false };
    persist();
    pump();
  }

  function answerUrl(qid) { return d.apiAnswer.replace(/\/0$/, "/" + qid); }

  function pump() {
    if (sending || finished || closing || !queue.length) { if (!queue.length && !sending) { setSave("saved"); } return; }
    var item = queue[0];
    if (item.answer === null) { queue.shift(); pump(); return; }  // cleared answers stay as they were saved
    if (item.seq === null) { seq += 1; item.seq = seq; local[item.qid].seq = seq; persist(); }
    sending = true;
    setSave("saving");
    App.api("PUT", answerUrl(item.qid), { answer: item.answer, seq: item.seq }).then(function (res) {
      sending = false; retryDelay = 1000;
      queue.shift();
      local[item.qid] = { answer: item.answer, seq: item.seq, saved: true };
      persist();
      syncClock(res.remaining_seconds);
      pump();
    }).catch(function (err) {
      sending = false;
      if (err.status === 409 && err.code === "stale") { queue.shift(); resync(d.msgStale); return; }
      if (err.status === 409) { finishLocally(); return; }
      if (err.status === 401) { goLogin(); return; }
      if (err.status === 400) { queue.shift(); pump(); return; }
      setSave("unsaved");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(pump, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  function goLogin() {
    unguard();
    window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname);
  }

  function syncClock(remaining) {
    if (typeof remaining === "number") { deadlineAt = Date.now() + remaining * 1000; }
  }

  function resync(message) {
    return App.api("GET", d.apiAttempt).then(function (res) {
      var a = res.attempt;
      if (a.status !== "in_progress") { finishLocally(); return; }
      seq = Math.max(seq, a.seq);
      syncClock(a.remaining_seconds);
      a.questions.forEach(function (q) {
        var mine = local[q.id];
        if (!mine || mine.saved || (mine.seq !== null && mine.seq <= a.seq)) {
          var li = document.getElementById("q-" + q.id);
          if (li) { show(li, q.answer); }
          local[q.id] = { answer: q.answer, seq: a.seq, saved: true };
        }
      });
      persist();
      countAnswered();
      if (message) { flash(message); }
      pump();
    }).catch(function (err) { if (err.status === 401) { goLogin(); } });
  }

  function flash(text) {
    var div = document.createElement("div");
    div.className = "app-flash app-flash--warn";
    div.setAttribute("role", "status");
    div.textContent = text;
    root.insertBefore(div, root.children[1]);
    setTimeout(function () { div.remove(); }, 6000);
  }

  function finishLocally() {
    finished = true;
    unguard();
    try { localStorage.removeItem(storeKey); localStorage.removeItem(flagKey); } catch (e) { /* ignore */ }
    window.location.href = d.resultUrl;
  }

  function allAnswers() {
    var out = [];
    root.querySelectorAll(".exam-q").forEach(function (li) {
      var qid = li.getAttribute("data-qid"), mine = local[qid];
      if (mine && !mine.saved && mine.answer) {
        if (mine.seq === null) { seq += 1; mine.seq = seq; }
        out.push({ question_id: parseInt(qid, 10), answer: mine.answer, seq: mine.seq });
      }
    });
    out.sort(function (a, b) { return a.seq - b.seq; });
    persist();
    return out;
  }

  function submit() {
    if (submitting || finished) { return; }
    submitting = true;
    clearTimeout(retryTimer);
    App.api("POST", d.apiSubmit, { answers: allAnswers() }).then(finishLocally).catch(function (err) {
      submitting = false;
      if (err.status === 409 || err.status === 404) { finishLocally(); return; }
      if (err.status === 401) { goLogin(); return; }
      flash(d.msgFailed);
      setTimeout(submit, 5000);
    });
  }

  function tick() {
    var left = Math.max(0, Math.round((deadlineAt - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    timerEl.textContent = (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    timerEl.parentNode.classList.toggle("is-urgent", left <= 300);
    if (left <= 3 && !closing) { closing = true; flash(d.msgAuto); submit(); }
    setTimeout(tick, 1000 - (Date.now() % 1000));
  }

  // Restore what this device saved locally but the server may not have (reload, reconnect).
  Object.keys(local).forEach(function (qid) {
    var mine = local[qid], li = document.getElementById("q-" + qid);
    if (li && mine && !mine.saved) {
      show(li, mine.answer);
      if (mine.seq !== null && mine.seq <= seq) { mine.seq = null; }  // the server has moved on: renumber
      queue.push({ qid: qid, answer: mine.answer, seq: mine.seq });
    }
  });
  queue.sort(function (a, b) { return (a.seq === null) - (b.seq === null) || (a.seq || 0) - (b.seq || 0); });

  root.addEventListener("change", function (ev) {
    var li = ev.target.closest(".exam-q");
    if (li) { enqueue(li.getAttribute("data-qid"), answerOf(li)); countAnswered(); }
  });
  root.addEventListener("input", function (ev) {
    if (ev.target.classList.contains("exam-fill")) { countAnswered(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { resync(); }
  });
  window.addEventListener("online", function () { retryDelay = 1000; pump(); });

  root.addEventListener("click", function (ev) {
    var t = ev.target, jump = t.closest('a[href^="#q-"]');
    if (jump) {
      ev.preventDefault();
      sheet(null);
      showQuestion(qs.indexOf($(jump.getAttribute("href").slice(1))), true);
    } else if (t.closest("[data-close]") || t.id === "exam-backdrop") {
      sheet(null);
    } else if (t.closest(".exam-flag")) {
      var qid = t.closest(".exam-q").getAttribute("data-qid");
      if (flags[qid]) { delete flags[qid]; } else { flags[qid] = 1; }
      try { localStorage.setItem(flagKey, JSON.stringify(flags)); } catch (e) { /* full */ }
      countAnswered();
    }
  });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { sheet(null); } });
  $("exam-prev").addEventListener("click", function () { showQuestion(current - 1, true); });
  $("exam-next").addEventListener("click", function () { showQuestion(current + 1, true); });
  $("exam-sheet-open").addEventListener("click", function () { countAnswered(); sheet(openSheet ? null : $("exam-sheet")); });
  $("exam-submit").addEventListener("click", review);
  $("exam-last").addEventListener("click", review);
  $("exam-confirm-yes").addEventListener("click", function () { sheet(null); submit(); });

  // Re-sync every few minutes: the countdown stays on the server's clock and the session stays
  // alive while an officer reads a long question without answering.
  setInterval(function () { if (!closing && !finished) { resync(); } }, 4 * 60 * 1000);

  root.classList.add("is-paged");
  root.querySelector(".exam-nav").hidden = false;
  qs.forEach(function (li) { li.tabIndex = -1; li.querySelector(".exam-flag").hidden = false; });
  var start = qs.indexOf(window.location.hash ? $(window.location.hash.slice(1)) : null);
  showQuestion(start < 0 ? 0 : start, false);
  tick();
  pump();
})();
