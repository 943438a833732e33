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

  function countAnswered() {
    var all = root.querySelectorAll(".exam-q"), n = 0;
    all.forEach(function (li) { if (answerOf(li)) { n += 1; } });
    document.getElementById("exam-progress").value = n;
    document.getElementById("exam-count").textContent = n + "/" + all.length;
    return { answered: n, total: all.length };
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
    try { localStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
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

  document.getElementById("exam-submit").addEventListener("click", function () {
    var missing = [];
    root.querySelectorAll(".exam-q").forEach(function (li, i) { if (!answerOf(li)) { missing.push(i + 1); } });
    var box = document.getElementById("exam-unanswered");
    if (missing.length) {
      box.hidden = false;
      box.textContent = d.msgUnanswered.replace("{n}", missing.length) + missing.join("、");
    } else { box.hidden = true; }
    document.getElementById("exam-confirm-text").textContent = d.msgConfirm;
    document.getElementById("exam-confirm").hidden = false;
  });
  document.getElementById("exam-confirm-no").addEventListener("click", function () {
    document.getElementById("exam-confirm").hidden = true;
  });
  document.getElementById("exam-confirm-yes").addEventListener("click", submit);

  // Re-sync every few minutes: the countdown stays on the server's clock and the session stays
  // alive while an officer reads a long question without answering.
  setInterval(function () { if (!closing && !finished) { resync(); } }, 4 * 60 * 1000);

  countAnswered();
  tick();
  pump();
})();
