/* Small inline-SVG line charts for the classroom pages: no library, no canvas.
   Colours are the game's Okabe-Ito palette (game/ui/palette.py); every series also has its own
   dash pattern and a text label at its end, so colour is never the only cue. */
"use strict";

var SCCharts = (function () {
  var NS = "http://www.w3.org/2000/svg";
  var BLOC = {
    us: { colour: "#56B4E9", dash: "", name: "US" },
    china: { colour: "#D55E00", dash: "7 4", name: "China" },
    allies: { colour: "#009E73", dash: "2 3", name: "Allies" },
    rest: { colour: "#999999", dash: "9 3 2 3", name: "Rest" },
  };
  var OTHER = [
    { colour: "#E69F00", dash: "" },
    { colour: "#CC79A7", dash: "5 3" },
    { colour: "#F0E442", dash: "2 2" },
  ];

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== "") e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmt(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return v.toFixed(2).replace(/\.?0+$/, "") || "0";
  }

  /* series: [{name, values, colour, dash}]; dates: labels for the x axis. */
  function line(title, dates, series, unit) {
    var W = 320, H = 150, L = 40, R = 58, T = 10, B = 22;
    var fig = document.createElement("figure");
    fig.className = "chart";
    var cap = document.createElement("figcaption");
    cap.textContent = title + (unit ? " (" + unit + ")" : "");
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title });
    var lo = Infinity, hi = -Infinity, n = 0;
    series.forEach(function (s) {
      s.values.forEach(function (v) {
        if (v === null || v === undefined || !isFinite(v)) return;
        lo = Math.min(lo, v); hi = Math.max(hi, v);
      });
      n = Math.max(n, s.values.length);
    });
    var desc = [];
    if (!isFinite(lo) || n === 0) {
      svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ch-empty" },
        "no months played yet"));
      fig.appendChild(cap); fig.appendChild(svg);
      return fig;
    }
    if (lo > 0 && lo < hi * 0.5) lo = 0;
    if (hi === lo) { hi = lo + 1; lo = lo - (lo ? 1 : 0); }
    var pad = (hi - lo) * 0.06; hi += pad; if (lo !== 0) lo -= pad;
    function x(i) { return L + (n <= 1 ? 0 : (i * (W - L - R)) / (n - 1)); }
    function y(v) { return T + (H - T - B) * (1 - (v - lo) / (hi - lo)); }
    [lo, (lo + hi) / 2, hi].forEach(function (v) {
      svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "ch-grid" }));
      svg.appendChild(el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "ch-tick" }, fmt(v)));
    });
    if (dates && dates.length) {
      svg.appendChild(el("text", { x: L, y: H - 5, class: "ch-tick" }, dates[0]));
      svg.appendChild(el("text", { x: W - R, y: H - 5, "text-anchor": "end", class: "ch-tick" }, dates[dates.length - 1]));
    }
    var ends = [];
    series.forEach(function (s) {
      var d = "", pen = false, last = null;
      s.values.forEach(function (v, i) {
        if (v === null || v === undefined || !isFinite(v)) { pen = false; return; }
        d += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1) + " ";
        pen = true; last = { i: i, v: v };
      });
      if (!d) return;
      svg.appendChild(el("path", { d: d, fill: "none", stroke: "#0a0d13", "stroke-width": 4.5 }));
      svg.appendChild(el("path", {
        d: d, fill: "none", stroke: s.colour, "stroke-width": 2.5, "stroke-dasharray": s.dash,
        "stroke-linejoin": "round", class: "ch-line",
      }));
      if (last) {
        ends.push({ y: y(last.v), x: x(last.i), s: s, v: last.v });
        desc.push(s.name + " " + fmt(last.v));
      }
    });
    // End labels, nudged apart so they never overlap.
    ends.sort(function (a, b) { return a.y - b.y; });
    for (var i = 1; i < ends.length; i++) if (ends[i].y - ends[i - 1].y < 13) ends[i].y = ends[i - 1].y + 13;
    ends.forEach(function (e) {
      svg.appendChild(el("text", { x: W - R + 4, y: Math.min(H - B, e.y) + 4, class: "ch-label", fill: e.s.colour },
        e.s.name));
    });
    svg.setAttribute("aria-label", title + ": latest " + desc.join(", "));
    fig.appendChild(cap); fig.appendChild(svg);
    return fig;
  }

  /* charts: {dates, capability: {bloc: [..]}, gap_months: [..], gray_price: [..]} */
  function render(box, charts) {
    box.textContent = "";
    if (!charts) return;
    var dates = charts.dates || [];
    var cap = charts.capability || {};
    var blocs = Object.keys(cap);
    var k = 0;
    var capSeries = blocs.map(function (b) {
      var st = BLOC[b] || OTHER[k++ % OTHER.length];
      return { name: st.name || b, values: cap[b] || [], colour: st.colour, dash: st.dash };
    });
    box.appendChild(line("Frontier AI capability by bloc", dates, capSeries, charts.capability_unit || ""));
    if (charts.gap_months) {
      box.appendChild(line("China's gap behind the US", dates,
        [{ name: "gap", values: charts.gap_months, colour: BLOC.china.colour, dash: "7 4" }], "months"));
    }
    if (charts.gray_price) {
      box.appendChild(line("Gray-market chip price", dates,
        [{ name: "price", values: charts.gray_price, colour: "#E69F00", dash: "" }], charts.gray_price_unit || "USD"));
    }
  }

  return { render: render, line: line, BLOC: BLOC };
})();
