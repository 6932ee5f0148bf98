/* The student's page of the networked classroom (docs/classroom-protocol.md): join a team,
   rejoin with the seat token kept in localStorage, write the team's orders, submit them. */
"use strict";

(function () {
  var SEAT_KEY = "sc.seat"; // {room, token}
  var DRAFT_KEY = "sc.draft"; // {token, turn, orders}
  var DRAFT_DELAY = 600; // ms of quiet before a draft goes to the teammates
  var $ = function (id) { return document.getElementById(id); };

  var ws = null, backoff = 500, retryTimer = null, pingTimer = null;
  var seat = load(SEAT_KEY); // the seat we hold, or null
  var view = null; // the last `state`
  var orders = {}; // "lever|target" -> order, and "adopt|ID" -> {adopt: ID}: this turn's draft
  var draftTurn = null;
  var lastEdit = 0, draftTimer = null, submittedOrders = null, pendingSubmit = null;
  var joining = null; // {room, team} while a join is under way
  var renderedLevers = ""; // the levers' shape last built, to rebuild only when it changes

  // --------------------------------------------------------------- storage
  function load(key) {
    try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
  }
  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* private mode: the page still works, it just forgets on reload */ }
  }
  // The draft this browser holds, and whether the host has it yet: after a reload, a draft
  // the host never got is newer than the one it has.
  function keepDraft(sent) {
    if (seat) store(DRAFT_KEY, { token: seat.token, turn: draftTurn, orders: orderList(), sent: !!sent });
  }

  // --------------------------------------------------------------- helpers
  function text(id, s) { $(id).textContent = s === undefined || s === null ? "" : String(s); }
  var node = window.SC.node;  // dom.js
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function showError(msg) {
    var box = $("errors");
    box.textContent = msg;
    box.hidden = !msg;
  }
  function conn(msg, ok) {
    text("conn", msg);
    $("conn").className = "conn" + (ok ? " ok" : "");
  }
  function orderKey(o) {
    return o.adopt !== undefined ? "adopt|" + o.adopt : o.lever + "|" + (o.target === null || o.target === undefined ? "" : o.target);
  }
  function orderList() { return Object.keys(orders).map(function (k) { return orders[k]; }); }
  function setOrders(list) {
    orders = {};
    (list || []).forEach(function (o) { orders[orderKey(o)] = o; });
  }
  function sameOrders(a, b) {
    if (!a || !b) return false;
    var ka = a.map(orderKey).sort(), kb = b.map(orderKey).sort();
    if (ka.join() !== kb.join()) return false;
    var m = {};
    a.forEach(function (o) { m[orderKey(o)] = o.value; });
    return b.every(function (o) { return m[orderKey(o)] === o.value; });
  }

  // --------------------------------------------------------------- connection
  function wsUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  }
  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return true; }
    return false;
  }
  function connect() {
    clearTimeout(retryTimer);
    conn("Connecting…", false);
    try { ws = new WebSocket(wsUrl()); } catch (e) { retry(); return; }
    ws.onopen = function () {
      backoff = 500;
      conn("Connected", true);
      if (seat) send({ type: "rejoin", room: seat.room, token: seat.token });
      else if (joining) send({ type: "join", room: joining.room, team: joining.team });
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { send({ type: "ping" }); }, 20000);
    };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      handle(msg);
    };
    ws.onclose = function () {
      clearInterval(pingTimer);
      ws = null;
      if (seat || joining) retry();
      else conn("Not connected", false);
    };
  }
  function retry() {
    var wait = Math.min(backoff, 10000) * (0.75 + Math.random() * 0.5);
    conn("Connection lost: trying again in " + Math.round(wait / 1000) + " s…", false);
    backoff = Math.min(backoff * 2, 10000);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, wait);
  }
  function ensureConnected() {
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
    connect();
  }

  // --------------------------------------------------------------- messages
  function handle(msg) {
    switch (msg.type) {
      case "welcome":
        joining = null;
        seat = { room: msg.room, token: msg.token, team: msg.team, seat: msg.seat };
        store(SEAT_KEY, seat);
        var kept = load(DRAFT_KEY);
        if (!kept || kept.token !== msg.token) store(DRAFT_KEY, null);
        showError("");
        showTeamPage();
        break;
      case "state":
        onState(msg);
        break;
      case "submitted":
        pendingSubmit = null;
        submittedOrders = msg.orders || [];
        renderSubmit();
        break;
      case "error":
        onError(msg);
        break;
      case "freed":
        // Moved to another team: the host gives the seat's new token and we rejoin with it;
        // freed: no token, and the page goes back to joining.
        view = null; renderedLevers = "";
        store(DRAFT_KEY, null);
        setOrders([]);
        if (seat && msg.token) {
          seat.token = msg.token;
          store(SEAT_KEY, seat);
          send({ type: "rejoin", room: seat.room, token: seat.token });
        } else {
          seat = null; store(SEAT_KEY, null);
          showJoin();
          showError("The facilitator freed your seat: join a team again.");
        }
        break;
      case "pong":
        break;
    }
  }

  function onError(msg) {
    var code = msg.code;
    if (code === "token" || (code === "room" && seat)) {
      seat = null; store(SEAT_KEY, null); store(DRAFT_KEY, null); view = null;
      showJoin();
      showError((msg.message || "Your seat is no longer valid.") + " Join again.");
      return;
    }
    if (joining && (code === "room" || code === "full")) joining = null;
    if (code === "turn" || code === "paused" || code === "ended") pendingSubmit = null;
    showError(msg.message || ("The host refused: " + code));
    renderSubmit();
  }

  function onState(st) {
    var firstOfTurn = view === null || view.turn !== st.turn;
    view = st;
    if (firstOfTurn) {
      submittedOrders = st.submitted || null;
      // A draft from the host (a teammate's, or ours from before a reload); failing that the
      // one this browser kept, if it is for this turn.
      var kept = load(DRAFT_KEY);
      var mine = kept && seat && kept.token === seat.token && kept.turn === st.turn && kept.orders;
      draftTurn = st.turn;
      if (mine && !kept.sent) {
        setOrders(kept.orders);
        keepDraft(false);
        scheduleDraft(0); // give it to the host and the teammates
      } else {
        setOrders(st.draft || st.submitted || (mine ? kept.orders : []));
        keepDraft(true);
      }
    } else {
      if (st.submitted !== undefined) submittedOrders = st.submitted;
      var held = load(DRAFT_KEY);
      if (st.status === "open" && held && !held.sent && !draftTimer) scheduleDraft(0); // after a pause
      // A teammate's draft replaces ours unless we typed in the last moments.
      if (st.draft && Date.now() - lastEdit > DRAFT_DELAY * 2 && !draftTimer) {
        setOrders(st.draft);
        keepDraft(true);
      }
    }
    renderState();
  }

  // --------------------------------------------------------------- join page
  function showJoin() {
    $("team").hidden = true;
    $("join").hidden = false;
    var room = $("room");
    if (!room.value) room.value = (new URLSearchParams(location.search).get("room") || "").toUpperCase();
    if (room.value) loadTeams(room.value);
  }

  var teamsFor = null;
  function loadTeams(code) {
    code = code.trim().toUpperCase();
    if (!code || code === teamsFor) return;
    teamsFor = code;
    fetch("/api/room?code=" + encodeURIComponent(code), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (info) { if (teamsFor === code) renderTeamChoice(info); })
      .catch(function () {
        if (teamsFor !== code) return;
        teamsFor = null;
        renderTeamChoice(null);
        text("team-hint", "No room with that code: check it with your teacher.");
      });
  }

  function renderTeamChoice(info) {
    var list = $("team-list");
    var previous = (list.querySelector("input:checked") || {}).value;
    list.textContent = "";
    if (!info) return;
    text("team-hint", info.title ? info.title : "Pick your team, or let the room choose.");
    var teams = info.teams || [];
    var opts = [{ id: "", name: "Any team with room", note: "" }].concat(teams.map(function (t) {
      var n = typeof t.seats === "number" ? t.seats : (t.seats || []).length;
      return { id: t.id, name: t.name || t.id, note: n ? n + " joined" : "nobody yet", full: t.full };
    }));
    opts.forEach(function (o, i) {
      var id = "team-opt-" + i;
      var input = node("input", { type: "radio", name: "team", id: id, value: o.id, disabled: o.full });
      if ((previous === undefined && i === 0) || previous === o.id) input.checked = true;
      list.appendChild(node("div", { class: "team-opt" }, [
        input,
        node("label", { for: id }, [node("span", { text: o.name }), o.note ? node("span", { class: "dim small", text: " (" + o.note + (o.full ? ", full" : "") + ")" }) : null]),
      ]));
    });
  }

  $("room").addEventListener("input", function () {
    var v = this.value.trim();
    if (v.length >= 6) loadTeams(v);
  });
  $("room").addEventListener("change", function () { loadTeams(this.value); });
  $("join-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = $("room").value.trim().toUpperCase();
    if (!code) { showError("Type the room code first."); $("room").focus(); return; }
    var picked = document.querySelector('input[name="team"]:checked');
    joining = { room: code, team: picked && picked.value ? picked.value : null };
    showError("");
    if (!send({ type: "join", room: joining.room, team: joining.team })) ensureConnected();
  });

  // --------------------------------------------------------------- team page
  function showTeamPage() {
    $("join").hidden = true;
    $("team").hidden = false;
    if (seat && seat.room) {
      var u = new URL(location.href);
      if (u.searchParams.get("room") !== seat.room) {
        u.searchParams.set("room", seat.room);
        history.replaceState(null, "", u.toString());
      }
    }
  }

  function leverValue(lever, target) {
    var o = orders[lever.id + "|" + (target.id === null || target.id === undefined ? "" : target.id)];
    return o ? o.value : target.value;
  }

  function targetsOf(lever) {
    var t = lever.targets;
    if (!t || !t.length) return [{ id: null, name: "", value: lever.value }];
    return t.map(function (x) {
      if (Array.isArray(x)) return { id: x[0], name: x[1], value: x[2] };
      return { id: x.id === undefined ? (x.target === undefined ? null : x.target) : x.id, name: x.name || x.label || (x.id || ""), value: x.value };
    });
  }

  function stepFor(range) {
    var span = range[1] - range[0];
    if (span <= 1) return 0.01;
    if (span <= 10) return 0.1;
    if (span <= 200) return 1;
    return Math.pow(10, Math.floor(Math.log10(span)) - 2);
  }

  function sameValue(a, b) {
    if (typeof a === "number" || typeof b === "number") return Math.abs(Number(a) - Number(b)) < 1e-9;
    return a === b;
  }

  function edit(lever, target, value) {
    var key = lever.id + "|" + (target.id === null || target.id === undefined ? "" : target.id);
    if (sameValue(value, target.value)) delete orders[key];
    else orders[key] = { lever: lever.id, target: target.id === undefined ? null : target.id, value: value };
    touched();
  }

  function touched() {
    lastEdit = Date.now();
    keepDraft(false);
    scheduleDraft(DRAFT_DELAY);
    renderSubmit();
    markChanged();
  }

  function scheduleDraft(delay) {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(function () {
      draftTimer = null;
      if (view && view.status === "open" && send({ type: "draft", turn: view.turn, orders: orderList() })) keepDraft(true);
    }, delay);
  }

  function buildLevers() {
    var box = $("levers");
    box.textContent = "";
    (view.levers || []).forEach(function (lever, li) {
      var targets = targetsOf(lever);
      var helpId = "lh-" + li;
      var fs = node("fieldset", { class: "lever", "data-lever": lever.id, "aria-describedby": lever.says ? helpId : null });
      fs.appendChild(node("legend", { text: lever.name || lever.id }));
      if (lever.says) fs.appendChild(node("p", { class: "says", id: helpId, text: lever.says }));
      targets.forEach(function (target, ti) {
        var id = "lv-" + li + "-" + ti;
        var row = node("div", { class: "lever-row kind-" + lever.kind, "data-target": target.id === null ? "" : target.id });
        // A lever without target: the legend already names it, so its label is for screen
        // readers only; a lever with targets labels each row with its target.
        var single = target.id === null || target.id === undefined;
        var label = single ? (lever.name || lever.id) : (target.name || String(target.id));
        var labelClass = single && lever.kind !== "bool" ? "sr" : null;
        var now = node("span", { class: "now small dim" });
        if (lever.kind === "bool") {
          var cb = node("input", { type: "checkbox", id: id, "aria-describedby": lever.says ? helpId : null });
          cb.addEventListener("change", function () { edit(lever, target, cb.checked); });
          row.appendChild(cb);
          row.appendChild(node("label", { for: id, text: label }));
          row.appendChild(now);
        } else if (lever.kind === "choice") {
          row.appendChild(node("label", { for: id, text: label, class: labelClass }));
          var sel = node("select", { id: id, "aria-describedby": lever.says ? helpId : null });
          (lever.choices || []).forEach(function (c) {
            var v = typeof c === "object" && c !== null ? c.id : c;
            var n = typeof c === "object" && c !== null ? (c.name || c.id) : c;
            sel.appendChild(node("option", { value: v, text: n }));
          });
          sel.addEventListener("change", function () { edit(lever, target, sel.value); });
          row.appendChild(sel);
          row.appendChild(now);
        } else {
          var range = lever.range || [0, 1];
          var step = stepFor(range);
          row.appendChild(node("label", { for: id, text: label + (lever.unit ? " (" + lever.unit + ")" : ""), class: labelClass }));
          var wrap = node("div", { class: "num-wrap" });
          var slider = node("input", { type: "range", min: range[0], max: range[1], step: step, "aria-label": label + " slider", tabindex: "-1" });
          var num = node("input", { type: "number", id: id, min: range[0], max: range[1], step: "any", inputmode: "decimal", "aria-describedby": lever.says ? helpId : null });
          slider.addEventListener("input", function () { num.value = slider.value; edit(lever, target, Number(slider.value)); });
          num.addEventListener("input", function () {
            if (num.value === "" || !isFinite(Number(num.value))) return;
            var v = Number(num.value);
            if (v < range[0] || v > range[1]) { num.setAttribute("aria-invalid", "true"); return; }
            num.removeAttribute("aria-invalid");
            slider.value = v;
            edit(lever, target, v);
          });
          wrap.appendChild(slider); wrap.appendChild(num);
          if (lever.unit) wrap.appendChild(node("span", { class: "unit", text: lever.unit, "aria-hidden": "true" }));
          row.appendChild(wrap);
          row.appendChild(now);
        }
        box.appendChild(fs);
        fs.appendChild(row);
      });
    });
    buildProposals();
  }

  function buildProposals() {
    var box = $("proposals");
    box.textContent = "";
    var props = view.proposals || [];
    if (!props.length) return;
    var fs = node("fieldset", { class: "lever proposals" }, [node("legend", { text: "Steps your side took in history: adopt one?" })]);
    props.forEach(function (p, i) {
      var id = "prop-" + i;
      var cb = node("input", { type: "checkbox", id: id, "data-proposal": p.id });
      cb.addEventListener("change", function () {
        if (cb.checked) orders["adopt|" + p.id] = { adopt: p.id };
        else delete orders["adopt|" + p.id];
        touched();
      });
      fs.appendChild(node("div", { class: "lever-row kind-bool" }, [cb, node("label", { for: id }, [node("strong", { text: p.date ? p.date + ": " : "" }), p.text || p.id])]));
    });
    box.appendChild(fs);
  }

  function fmtValue(v) {
    if (typeof v === "boolean") return v ? "on" : "off";
    if (typeof v === "number") return String(Math.round(v * 1000) / 1000);
    return v === null || v === undefined ? "" : String(v);
  }

  // Put the draft's values into the controls (without rebuilding them, so focus stays put).
  function fillLevers() {
    (view.levers || []).forEach(function (lever) {
      var fs = document.querySelector('fieldset.lever[data-lever="' + CSS.escape(lever.id) + '"]');
      if (!fs) return;
      var rows = fs.querySelectorAll(".lever-row");
      targetsOf(lever).forEach(function (target, ti) {
        var row = rows[ti];
        if (!row) return;
        var v = leverValue(lever, target);
        var changed = !sameValue(v, target.value);
        row.classList.toggle("changed", changed);
        row.querySelector(".now").textContent = changed ? "now " + fmtValue(target.value) + ", changing" : "";
        var active = document.activeElement;
        if (lever.kind === "bool") {
          row.querySelector("input").checked = !!v;
        } else if (lever.kind === "choice") {
          var sel = row.querySelector("select");
          if (sel !== active) sel.value = v;
        } else {
          var num = row.querySelector('input[type="number"]'), sl = row.querySelector('input[type="range"]');
          if (num !== active) num.value = fmtValue(v);
          if (sl !== active) sl.value = v;
        }
      });
    });
    document.querySelectorAll("input[data-proposal]").forEach(function (cb) {
      cb.checked = !!orders["adopt|" + cb.getAttribute("data-proposal")];
    });
  }

  function markChanged() {
    var n = orderList().length;
    text("draft-note", n ? n + " change" + (n > 1 ? "s" : "") + " in your team's draft (teammates see it)." : "No changes yet: submitting keeps everything as it is.");
    fillLevers();
  }

  function waitingFor() {
    return (view.teams || []).filter(function (t) {
      var seats = typeof t.seats === "number" ? t.seats : (t.seats || []).length;
      return seats > 0 && !t.submitted;
    });
  }

  function renderSubmit() {
    if (!view) return;
    var btn = $("submit"), st = $("submit-state");
    var open = view.status === "open";
    btn.disabled = !open || !!pendingSubmit;
    if (!open) { st.textContent = ""; return; }
    if (pendingSubmit) { st.textContent = "Sending…"; return; }
    if (submittedOrders) {
      var waiting = waitingFor();
      if (!sameOrders(submittedOrders, orderList())) {
        st.textContent = "You changed your orders since you submitted: submit again to replace them.";
        btn.textContent = "Submit again";
      } else {
        st.textContent = "Submitted. " + (waiting.length ? "Waiting for " + waiting.length + " team" + (waiting.length > 1 ? "s" : "") + ": " + waiting.map(function (t) { return t.name || t.id; }).join(", ") + "." : "The turn is resolving…");
        btn.textContent = "Submit orders";
      }
    } else {
      st.textContent = "Not submitted yet.";
      btn.textContent = "Submit orders";
    }
  }

  $("orders").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!view || view.status !== "open") return;
    clearTimeout(draftTimer); draftTimer = null;
    pendingSubmit = { type: "submit", turn: view.turn, orders: orderList(), id: newId() };
    showError("");
    if (!send(pendingSubmit)) { pendingSubmit = null; showError("Not connected: your orders are kept; submit again when the page reconnects."); ensureConnected(); }
    renderSubmit();
  });

  var STATUS = { lobby: "waiting to start", open: "open", paused: "paused", ended: "ended" };

  function renderState() {
    showTeamPage();
    var st = view;
    var team = st.team || {};
    var shape = JSON.stringify((st.levers || []).map(function (l) { return [l.id, l.kind, targetsOf(l).map(function (t) { return t.id; }), l.choices]; })) + JSON.stringify((st.proposals || []).map(function (p) { return p.id; })) + st.turn;
    text("team-name", team.name || team.id || (seat && seat.team));
    text("team-goal", team.goal || (st.score && st.score.objective) || "");
    text("team-situation", team.situation);
    text("team-watch", team.watch);
    document.title = (team.name || "Your team") + ": Silicon Curtain";

    // orders of the last turn the world no longer allowed (room.py dropped_notice)
    $("notice").textContent = st.notice || "";
    $("notice").hidden = !st.notice;

    var turnNo = st.turns ? Math.min(st.turn || 0, st.turns) : st.turn || 0;
    var line = "Turn " + turnNo + " of " + (st.turns || "?");
    if (st.date) line += " · " + st.date;
    if (st.months_left !== undefined && st.months_left !== null) line += " · " + st.months_left + " months left";
    line += " · ";
    $("status-line").textContent = line;
    $("status-line").appendChild(node("span", { class: "pill st-" + st.status, text: STATUS[st.status] || st.status }));

    var tl = $("teams-line");
    tl.textContent = "";
    (st.teams || []).forEach(function (t) {
      var seats = typeof t.seats === "number" ? t.seats : (t.seats || []).length;
      var mark = !seats ? "○ bot" : t.submitted ? "✓ submitted" : "… writing";
      var me = team.id === t.id;
      tl.appendChild(node("li", { class: "team-chip" + (t.submitted ? " done" : "") + (seats ? "" : " empty") + (me ? " me" : "") }, [
        node("span", { class: "tname", text: (t.name || t.id) + (me ? " (you)" : "") }),
        node("span", { class: "tmark", text: mark }),
      ]));
    });

    var sc = st.score;
    var scText = "", met = null;
    if (typeof sc === "string") scText = sc;
    else if (sc) { scText = sc.text || sc.line || ""; met = sc.met; }
    $("score-line").textContent = "";
    if (scText) {
      $("score-line").appendChild(node("span", { text: "Score: " + scText + " " }));
      if (met !== null && met !== undefined) $("score-line").appendChild(node("span", { class: "pill " + (met ? "met" : "unmet"), text: met ? "✓ goal met" : "✗ goal not met yet" }));
    }

    if (shape !== renderedLevers) { buildLevers(); renderedLevers = shape; }
    markChanged();

    var locked = st.status !== "open";
    $("orders-set").disabled = locked;
    var banner = $("banner");
    var msg = "";
    if (st.status === "paused") msg = "⏸ Paused by the facilitator: everything is locked until the game resumes. Your draft is kept.";
    else if (st.status === "lobby") msg = "Waiting for the facilitator to start the game. Read your briefing meanwhile.";
    else if (st.status === "ended") msg = "The game is over.";
    banner.textContent = msg;
    banner.hidden = !msg;
    banner.className = "banner st-" + st.status;
    document.body.classList.toggle("locked", locked);

    var ended = st.status === "ended";
    $("ended").hidden = !ended;
    $("report-link").hidden = !st.report;
    if (st.report) $("report-link").href = st.report;
    text("report-wait", ended && !st.report ? "Your debrief report is being written: the link appears here in a moment." : "");

    var news = $("news");
    news.textContent = "";
    (st.news || []).slice().reverse().forEach(function (item) {
      var t = typeof item === "string" ? item : item.text;
      var d = typeof item === "object" && item ? item.date || item.month || "" : "";
      var hidden = /hidden until/.test(t || "");
      news.appendChild(node("li", { class: hidden ? "hidden-decision" : "" }, [d ? node("span", { class: "ndate", text: d }) : null, node("span", { text: t })]));
    });
    if (!news.children.length) news.appendChild(node("li", { class: "dim", text: "No news yet." }));

    SCCharts.render($("charts"), st.charts);
    renderSubmit();
  }

  // --------------------------------------------------------------- start
  window.addEventListener("online", ensureConnected);
  document.addEventListener("visibilitychange", function () { if (!document.hidden && (seat || joining)) ensureConnected(); });
  if (seat && seat.token) {
    showTeamPage();
    text("team-name", "Rejoining your team…");
    connect();
  } else {
    showJoin();
    connect();
  }
})();
