/* The facilitator's page (docs/classroom-protocol.md): the key comes in the URL fragment
   (#key=...), never in a request the server logs; the page speaks over /ws/facilitator. */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var key = new URLSearchParams(location.hash.replace(/^#/, "")).get("key") || "";
  var ws = null, backoff = 500, retryTimer = null, refused = false;
  var ov = null;

  var node = window.SC.node;  // dom.js
  function showError(msg) { $("errors").textContent = msg || ""; $("errors").hidden = !msg; }
  function conn(msg, ok) { $("conn").textContent = msg; $("conn").className = "conn" + (ok ? " ok" : ""); }
  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return true; }
    showError("Not connected to the host: try again in a moment.");
    return false;
  }

  function connect() {
    if (!key) { conn("No key", false); showError("This page needs the facilitator's address with its key (…/facilitator#key=…), as the host printed it."); return; }
    conn("Connecting…", false);
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/facilitator");
    ws.onopen = function () { backoff = 500; conn("Connected", true); ws.send(JSON.stringify({ type: "hello", key: key })); };
    ws.onmessage = function (ev) {
      var msg; try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "overview") { if (!msg.save_error) showError(""); ov = msg; render(); }
      else if (msg.type === "error") {
        if (msg.code === "key" || msg.code === "token") refused = true;
        showError(msg.message || ("The host refused: " + msg.code));
      }
    };
    ws.onclose = function () {
      ws = null;
      if (refused) { conn("Refused: wrong key", false); return; }
      var wait = Math.min(backoff, 10000);
      backoff *= 2;
      conn("Connection lost: trying again in " + Math.round(wait / 1000) + " s…", false);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, wait);
    };
  }

  function seatsOf(t) {
    var s = t.seats;
    if (typeof s === "number") { var out = []; for (var i = 0; i < s; i++) out.push({ seat: null }); return out; }
    return (s || []).map(function (x) { return typeof x === "object" ? x : { seat: x }; });
  }
  function seatNo(s) { return s.seat !== undefined ? s.seat : (s.id !== undefined ? s.id : s.number); }

  var STATUS = { lobby: "lobby: waiting to start", open: "open", paused: "paused", ended: "ended" };

  function render() {
    var o = ov;
    var addr = o.join_url || o.address || o.join || "";
    $("join-addr").textContent = addr;
    $("join-addr").href = addr || "#";
    $("code").textContent = o.code || o.room || "";
    var st = o.status || o.state;
    var turnNo = o.turns ? Math.min(o.turn || 0, o.turns) : o.turn || 0;
    var line = "Turn " + turnNo + " of " + (o.turns || "?") + (o.date ? " · " + o.date : "") +
      (o.months_left !== undefined && o.months_left !== null ? " · " + o.months_left + " months left" : "") + " · ";
    $("fac-status").textContent = line;
    $("fac-status").appendChild(node("span", { class: "pill st-" + st, text: STATUS[st] || st }));
    $("fac-lesson").textContent = (o.title || o.lesson || "") + (o.injected && o.injected.length ? " Injected so far: " + o.injected.join(", ") + "." : "");
    if (o.save_error) showError("The room could not be saved: " + o.save_error);
    if (st === "ended") $("fac-lesson").textContent += o.report ? " The debrief report is ready." : " Writing the debrief report…";
    $("fac-hidden").textContent = o.hidden === undefined ? "" : o.hidden ? "Decisions are hidden from the other teams." : "Decisions are revealed to every team.";

    $("b-start").hidden = st !== "lobby";
    $("b-close").disabled = st !== "open";
    $("b-pause").disabled = st === "ended" || st === "lobby";
    $("b-pause").textContent = st === "paused" ? "Resume" : "Pause";
    $("b-reveal").textContent = o.hidden ? "Reveal decisions" : "Hide decisions";
    $("b-reveal").disabled = st === "ended" || o.hidden === undefined;
    $("b-end").disabled = st === "ended";
    $("b-inject").disabled = st === "ended" || st === "lobby";

    var ev = $("event"), evPrev = ev.value;
    ev.textContent = "";
    (o.events || []).forEach(function (e) {
      var id = typeof e === "object" ? e.id : e;
      ev.appendChild(node("option", { value: id, text: typeof e === "object" ? (e.name || e.title || e.id) : e }));
    });
    if (evPrev) ev.value = evPrev;

    var body = $("teams"), seatSel = $("seat"), toSel = $("to-team");
    var seatPrev = seatSel.value, toPrev = toSel.value;
    body.textContent = ""; seatSel.textContent = ""; toSel.textContent = "";
    (o.teams || []).forEach(function (t) {
      var seats = seatsOf(t);
      var ul = node("ul", { class: "seat-list" });
      seats.forEach(function (s) {
        var n = seatNo(s);
        var off = s.connected === false;
        ul.appendChild(node("li", { class: off ? "off" : "" , text: "seat " + (n === null || n === undefined ? "?" : n) + (off ? " (offline)" : "") }));
        if (n !== null && n !== undefined) seatSel.appendChild(node("option", { value: n, text: "seat " + n + " (" + (t.name || t.id) + ")" }));
      });
      if (!seats.length) ul.appendChild(node("li", { class: "off", text: "nobody (bot)" }));
      var sub = !seats.length ? "—" : t.submitted ? "✓ submitted" : "… writing";
      if (t.dropped) sub += " (last turn's orders not applied: the world changed)";
      body.appendChild(node("tr", {}, [node("th", { scope: "row", text: t.name || t.id }), node("td", {}, [ul]), node("td", { text: sub })]));
      toSel.appendChild(node("option", { value: t.id, text: t.name || t.id }));
    });
    if (seatPrev) seatSel.value = seatPrev;
    if (toPrev) toSel.value = toPrev;
    var noSeats = !seatSel.options.length;
    $("b-move").disabled = noSeats; $("b-free").disabled = noSeats;
  }

  $("b-start").addEventListener("click", function () { send({ type: "start" }); });
  $("b-close").addEventListener("click", function () { send({ type: "close_turn" }); });
  $("b-pause").addEventListener("click", function () {
    send({ type: ov && (ov.status || ov.state) === "paused" ? "resume" : "pause" });
  });
  $("b-reveal").addEventListener("click", function () { send({ type: "reveal", hidden: !(ov && ov.hidden) }); });
  $("inject-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if ($("event").value) send({ type: "inject", event: $("event").value });
  });
  $("seat-form").addEventListener("submit", function (e) {
    e.preventDefault();
    send({ type: "move_seat", seat: Number($("seat").value), team: $("to-team").value });
  });
  $("b-free").addEventListener("click", function () {
    if (window.confirm("Free seat " + $("seat").value + "? That browser goes back to joining.")) send({ type: "free_seat", seat: Number($("seat").value) });
  });
  var dlg = $("confirm-end");
  $("b-end").addEventListener("click", function () {
    if (dlg.showModal) dlg.showModal();
    else if (window.confirm("End the game now? Every team gets its debrief report.")) send({ type: "end" });
  });
  dlg.addEventListener("close", function () { if (dlg.returnValue === "end") send({ type: "end" }); });

  connect();
})();
