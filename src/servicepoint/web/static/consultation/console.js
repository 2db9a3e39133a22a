// The staff console of video consultations: the waiting room kept live from the staff
// WebSocket's queue frames, the call (tiles, own preview, mute, camera, chat, documents) and the
// console's forms posted with fetch, so the page stays in the call. Without this script every
// form still works: the server answers a plain form with a redirect back to the console.
import { CallClient } from "./rtc.js";

const main = document.querySelector("main");
const root = document.getElementById("video-console");
const T = JSON.parse(document.getElementById("console-texts").textContent);
const $ = (id) => document.getElementById(id);
const lang = document.documentElement.lang === "en" ? "en-GB" : "de-DE";
const clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Berlin" });

let current = root.dataset.callCode || null; // the booking code of my call
let waitingCount = $("waiting-list").children.length;
let client = null;

function fill(text, values) {
  return text.replace(/%\((\w+)\)[sd]/g, (_, key) => String(values[key] ?? ""));
}

function hhmm(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? "" : clock.format(when);
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function setState(state) {
  main.dataset.callState = state;
}

function peerName(peer) {
  if (peer === "clerk") return T.me;
  const guest = /^guest-(\d+)$/.exec(peer || "");
  return guest ? fill(T.guest, { n: guest[1] }) : T.citizen;
}

// -- messages ---------------------------------------------------------------------------------

function say(text, problem) {
  const box = $("console-messages");
  box.replaceChildren();
  const live = $("console-live");
  live.textContent = problem ? "" : text;
  if (problem) box.append(el("p", { class: "notice notice-error", role: "alert" }, text));
}

// -- the waiting room ---------------------------------------------------------------------------

function admitForm(entry) {
  const name = entry.name || T.no_name;
  const time = hhmm(entry.start);
  const button = el("button", { type: "submit", class: "button-primary" }, T.admit,
    el("span", { class: "visually-hidden" }, ` – ${name}, ${time}`));
  const form = el("form", { method: "post", action: `${root.dataset.base}/${entry.code}/einlassen`, "data-action": "eingelassen" },
    el("input", { type: "hidden", name: "csrf_token", value: root.dataset.csrf }), button);
  return form;
}

function waitingRow(entry) {
  return el("li", { id: `wait-${entry.code}`, "data-code": entry.code },
    el("p", { class: "waiting-who" }, el("strong", {}, entry.name || T.no_name), ` · ${fill(T.at, { time: hhmm(entry.start) })}`),
    el("p", { class: "waiting-what" }, (entry.services || []).join(", ")),
    el("p", { class: "waiting-since" }, ""),
    admitForm(entry));
}

function updateRow(row, entry) {
  const since = row.querySelector(".waiting-since");
  const text = fill(T.waited, { num: Math.floor((entry.waited_seconds || 0) / 60) });
  if (since.textContent !== text) since.textContent = text;
  const form = row.querySelector("form");
  if (!form) row.append(admitForm(entry));
}

// Rows keep their ids and stay where they are; new ones are put in appointment order. A row
// with keyboard focus that leaves hands focus to the list's heading rather than to nowhere.
function showWaiting(list) {
  const ol = $("waiting-list");
  const wanted = new Set(list.map((entry) => `wait-${entry.code}`));
  for (const row of [...ol.children]) {
    if (wanted.has(row.id)) continue;
    const hadFocus = row.contains(document.activeElement);
    row.remove();
    if (hadFocus) $("waiting-title").focus();
  }
  let next = ol.firstElementChild;
  for (const entry of list) {
    const row = $(`wait-${entry.code}`) || waitingRow(entry);
    updateRow(row, entry);
    if (row === next) next = next.nextElementSibling;
    else ol.insertBefore(row, next);
  }
  if (list.length !== waitingCount) {
    waitingCount = list.length;
    $("waiting-summary").textContent = fill(T.summary[list.length === 1 ? 0 : 1], { num: list.length });
  }
  showBusy();
}

// One call at a time: while in one, the admit buttons give way to a note that says why.
function showBusy() {
  $("busy-note").hidden = !current;
  for (const form of $("waiting-list").querySelectorAll("form")) form.hidden = Boolean(current);
}

// Today's appointments: states change in place; one booked since the page loaded is added (a
// page that had none to show needs a reload for its table).
function showToday(list) {
  const body = document.querySelector("#today-table tbody");
  for (const entry of list) {
    let row = $(`today-${entry.code}`);
    if (!row && body) {
      row = el("tr", { id: `today-${entry.code}` }, el("td", {}, hhmm(entry.start)),
        el("td", {}, el("a", { href: `${root.dataset.base}/${entry.code}` }, entry.name || T.no_name)),
        el("td", {}, (entry.services || []).join(", ")),
        el("td", { class: "today-state" }, ""));
      body.append(row);
    }
    const cell = row && row.querySelector(".today-state");
    const text = T.states[entry.state] || entry.state;
    if (cell && cell.textContent !== text) cell.textContent = text;
  }
}

function onQueue(msg) {
  const waiting = Array.isArray(msg.waiting) ? msg.waiting : [];
  showWaiting(waiting);
  main.dataset.queue = waiting.length ? "waiting" : "empty";
  if (Array.isArray(msg.today)) showToday(msg.today);
  const mine = current && (msg.today || []).find((entry) => entry.code === current);
  if (mine && mine.state === "ended") {
    endedElsewhere(); // the citizen hung up
  } else if (!current && main.dataset.callState !== "ended") {
    setState("waiting"); // ready for the next person; whether anybody waits: data-queue
  }
}

// -- the call -----------------------------------------------------------------------------------

function showMedia(on) {
  $("call-media").hidden = !on;
  $("chat").hidden = !on;
}

function onRemote(peer, stream) {
  const id = `tile-${peer}`;
  let tile = $(id);
  if (!stream) {
    if (tile) tile.remove();
    return;
  }
  if (!tile) {
    const video = el("video", { autoplay: "", playsinline: "", "data-remote": "", "data-peer": peer });
    tile = el("figure", { class: "tile", id }, video, el("figcaption", {}, peerName(peer)));
    $("tiles").prepend(tile);
  }
  const video = tile.querySelector("video");
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play().catch(() => {});
}

function leaveCall(state) {
  current = null;
  // Keep the WebSocket (the queue keeps coming); only the peer connections go.
  if (client) client._dropAll();
  for (const tile of $("tiles").querySelectorAll(".tile:not(.tile-self)")) tile.remove();
  $("chat-log").replaceChildren();
  showMedia(false);
  setState(state);
  showBusy();
}

function enterCall(code) {
  current = code;
  setState("admitted");
  showMedia(true);
  showBusy();
  if (client) client.join(code);
}

async function endedElsewhere() {
  leaveCall("ended");
  const response = await fetch(root.dataset.base, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const panel = page.getElementById("call-panel");
  if (panel) $("call-panel").replaceChildren(...panel.childNodes);
}

function chatLine(from, text, at) {
  const time = at ? hhmm(at) : clock.format(new Date());
  const line = el("li", {}, el("span", { class: "chat-from" }, `${peerName(from)} (${time}): `), text);
  $("chat-log").append(line);
}

function onChat(msg) {
  if (client && msg.from === client.self) return; // shown when sent
  chatLine(msg.from, String(msg.text || ""), msg.at);
}

function onUpload(msg) {
  const list = $("uploads");
  if (list && msg.url && !list.querySelector(`a[href="${CSS.escape(msg.url)}"]`)) {
    const size = Math.ceil((msg.size || 0) / 1024);
    list.append(el("li", {}, el("a", { href: msg.url, download: "" }, String(msg.name || "")), ` (${size} KB)`));
    const none = $("uploads-none");
    if (none) none.hidden = true;
  }
  chatLine(msg.from || "citizen", fill(T.upload, { name: msg.name || "" }), null);
}

// -- the forms ----------------------------------------------------------------------------------

const FOCUS_AFTER = { eingelassen: "call-who", zurueck: "call-title", beendet: "call-title", gast: "guest-url", notiz: "note-text" };
const NEW_PANEL = new Set(["eingelassen", "zurueck", "beendet", "gast", "notiz"]);

async function post(form) {
  const body = new URLSearchParams(new FormData(form));
  const response = await fetch(form.action, {
    method: "POST",
    body,
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  let answer = {};
  try { answer = await response.json(); } catch (e) { answer = {}; }
  return { ok: response.ok, answer };
}

function afterAction(action, answer) {
  if (NEW_PANEL.has(action)) {
    const panel = $("call-panel");
    // The guest link is shown once by the server; it stays in view while the same call goes on.
    const guest = action === "notiz" ? panel.querySelector(".guest-link") : null;
    panel.innerHTML = answer.panel || "";
    const form = panel.querySelector('form[data-action="gast"]');
    if (guest && form) form.after(guest);
    bindCopy();
  }
  if (action === "eingelassen") {
    const code = $("call-panel").querySelector(".call-panel")?.dataset.code;
    if (code) enterCall(code);
  } else if (action === "zurueck" || action === "beendet") {
    leaveCall(answer.state || (action === "beendet" ? "ended" : "waiting"));
  }
  if (answer.queue) main.dataset.queue = answer.queue;
  if (action === "uebergabe" && answer.link) chatLine("clerk", answer.link, null);
  say(answer.message || "", false);
  const target = $(FOCUS_AFTER[action] || "");
  if (target) target.focus();
  if (action === "gast" && target) target.select();
}

async function submitted(event) {
  const form = event.target;
  const action = form.dataset && form.dataset.action;
  if (!action || !root.contains(form)) return;
  event.preventDefault();
  if (form.dataset.busy) return; // a double click posts once
  form.dataset.busy = "1";
  try {
    const { ok, answer } = await post(form);
    if (ok) afterAction(action, answer);
    else say(answer.detail || T.failed, true);
  } catch (e) {
    say(T.failed, true);
  } finally {
    delete form.dataset.busy;
  }
}

// The copy button needs the script, so the server renders it hidden.
function bindCopy() {
  const button = $("guest-copy");
  if (button) button.hidden = false;
}

async function copyGuestLink(event) {
  if (!event.target.closest("#guest-copy")) return;
  const field = $("guest-url");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch (e) {
    field.select();
    document.execCommand("copy");
  }
  say(T.copied, false);
}

function bindControls() {
  for (const [id, apply] of [["mute", (on) => client.setMuted(on)], ["camera", (on) => client.setCameraOff(on)]]) {
    const button = $(id);
    button.addEventListener("click", () => {
      const on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", String(on));
      apply(on);
    });
  }
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("chat-text");
    const text = input.value.trim();
    if (text && client.sendChat(text)) chatLine("clerk", text, null);
    input.value = "";
  });
}

// -- start --------------------------------------------------------------------------------------

async function localMedia() {
  if (!navigator.mediaDevices) return null;
  for (const wanted of [{ audio: true, video: true }, { audio: true, video: false }]) {
    try { return await navigator.mediaDevices.getUserMedia(wanted); } catch (e) { /* next */ }
  }
  return null;
}

function start() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  client = new CallClient({
    wsUrl: `${scheme}//${location.host}${root.dataset.ws}`,
    self: "clerk",
    onRemote,
    onQueue,
    onChat,
    onUpload,
    onOpen: () => { if (current) client.join(current); }, // again after a reconnect
    onReplaced: () => say(T.replaced, true),
    onClose: (code, reason, final) => { if (final && code !== 4409) say(T.offline, true); },
  });
  window.spCall = client;
  client.connect();
  localMedia().then((stream) => {
    $("media-problem").hidden = Boolean(stream);
    if (!stream) return;
    $("self-view").srcObject = stream;
    client.setLocalStream(stream);
  });
  document.addEventListener("submit", submitted);
  document.addEventListener("click", copyGuestLink);
  bindControls();
  bindCopy();
  if (current) showMedia(true);
  showBusy();
}

start();
