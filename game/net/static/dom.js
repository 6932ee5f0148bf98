/* What both pages build their elements with (the student's and the facilitator's), loaded
   before either: node(tag, {class, text, attributes...}, [children]). */
"use strict";

window.SC = window.SC || {};
window.SC.node = function (tag, attrs, content) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) {
    if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
    if (k === "class") e.className = attrs[k];
    else if (k === "text") e.textContent = attrs[k];
    else e.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
  }
  (content || []).forEach(function (c) {
    if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  });
  return e;
};
