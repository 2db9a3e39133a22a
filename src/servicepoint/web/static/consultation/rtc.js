// The browser side of a video consultation: one WebSocket for signalling, one RTCPeerConnection
// per other participant (a mesh: citizen, clerk, guests). Used by the citizen's page, the guest
// page and the staff console. Media goes peer to peer (DTLS-SRTP); the server only relays
// descriptions, ICE candidates and chat, and only once staff have admitted the citizen.
//
// Who offers: in each pair the lower rank (clerk 0 < guest-n 1 < citizen 2). Every offer starts
// a fresh connection on the receiving side, so a peer that reloads simply offers again. If the
// lower rank never offers (a rejoin the server reported as "no change"), the higher rank offers
// after a short wait; a collision is settled the usual "perfect negotiation" way (the lower
// rank keeps its own offer, the higher rank yields).

const NO_RECONNECT = new Set([4403, 4409, 4410]); // refused, replaced, expired: retrying is futile
const PING_MS = 10000;
const FALLBACK_OFFER_MS = 3000;
const MAX_BACKOFF_MS = 15000;
const FRAMES_PER_SECOND = 12; // the server closes a connection sending more than 20 frames/s
const MAX_RESTARTS = 2; // fresh offers after a failed connection before giving up

function rank(peer) {
  if (peer === "clerk") return [0, 0];
  const guest = /^guest-(\d+)$/.exec(peer || "");
  if (guest) return [1, Number(guest[1])];
  return [2, 0];
}

export function offersTo(self, other) {
  const a = rank(self), b = rank(other);
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function noop() {}

export class CallClient {
  constructor(options) {
    const o = options || {};
    this.wsUrl = o.wsUrl;
    this.self = o.self || null; // the server's hello names us for certain
    this.iceServers = o.iceServers || [];
    this.localStream = o.localStream || null;
    this.on = {
      remote: o.onRemote || noop,
      peerState: o.onPeerState || noop,
      chat: o.onChat || noop,
      state: o.onState || noop,
      queue: o.onQueue || noop,
      upload: o.onUpload || noop,
      replaced: o.onReplaced || noop,
      close: o.onClose || noop,
      hello: o.onHello || noop,
      peers: o.onPeers || noop,
      open: o.onOpen || noop,
    };
    this.peers = new Map(); // peer name -> {pc, pending: [candidates], restarts, timer, making}
    this.ws = null;
    this.closed = false;
    this.attempt = 0;
    this.pingTimer = null;
    this.outbox = [];
    this.sentAt = [];
    this.flushTimer = null;
    this.muted = false;
    this.cameraOff = false;
    // A page still asking for camera and microphone holds back the mesh: a connection made
    // without them would have to be made again a moment later.
    this.held = o.mediaPending ? [] : null;
    window.spCall = this;
  }

  // --- WebSocket --------------------------------------------------------------------------

  connect() {
    if (this.closed) return;
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this._flush();
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_MS);
      this.on.open();
    });
    ws.addEventListener("message", (event) => this._receive(event.data));
    ws.addEventListener("close", (event) => this._closed(ws, event));
  }

  _closed(ws, event) {
    if (ws !== this.ws) return;
    clearInterval(this.pingTimer);
    this.ws = null;
    const final = this.closed || NO_RECONNECT.has(event.code);
    this.on.close(event.code, event.reason, final);
    if (final) return;
    // Media may well go on peer to peer; only signalling is gone. Come back, slower each time.
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    setTimeout(() => this.connect(), delay);
  }

  send(frame) {
    this.outbox.push(JSON.stringify(frame));
    this._flush();
  }

  // Keep well under the server's frame rate limit: a burst of ICE candidates is spread out.
  _flush() {
    if (this.flushTimer) return;
    const now = Date.now();
    this.sentAt = this.sentAt.filter((t) => now - t < 1000);
    while (this.outbox.length && this.ws && this.ws.readyState === WebSocket.OPEN) {
      if (this.sentAt.length >= FRAMES_PER_SECOND) {
        const wait = 1000 - (now - this.sentAt[0]) + 5;
        this.flushTimer = setTimeout(() => { this.flushTimer = null; this._flush(); }, wait);
        return;
      }
      this.ws.send(this.outbox.shift());
      this.sentAt.push(now);
    }
  }

  _receive(text) {
    let msg;
    try { msg = JSON.parse(text); } catch (e) { return; }
    if (!msg || typeof msg.type !== "string") return;
    const handler = {
      hello: () => this._hello(msg),
      state: () => this.on.state(msg),
      peers: () => this._hold(() => this._peers(Array.isArray(msg.peers) ? msg.peers : [])),
      signal: () => this._hold(() => this._signal(msg.from, msg.data || {})),
      chat: () => this.on.chat(msg),
      upload: () => this.on.upload(msg),
      queue: () => this.on.queue(msg),
      replaced: () => this._replaced(),
      error: () => console.warn("signalling refused a frame", msg.error, msg.detail || ""),
      pong: noop,
    }[msg.type];
    if (handler) handler();
  }

  _hold(step) {
    if (this.held) this.held.push(step);
    else step();
  }

  // The camera and microphone are decided (a stream, or none): the mesh may start.
  mediaReady() {
    const held = this.held;
    this.held = null;
    if (held) held.forEach((step) => step());
  }

  _hello(msg) {
    this.self = msg.peer || this.self;
    if (Array.isArray(msg.ice_servers)) this.iceServers = msg.ice_servers;
    this.on.hello(msg);
  }

  _replaced() {
    this.closed = true;
    this._dropAll();
    this.stopLocal();
    this.on.replaced();
  }

  // --- the mesh ---------------------------------------------------------------------------

  _peers(list) {
    const now = new Set(list.filter((p) => p && p !== this.self));
    for (const name of [...this.peers.keys()]) if (!now.has(name)) this._drop(name);
    for (const name of now) {
      const entry = this.peers.get(name);
      if (entry && !["failed", "closed"].includes(entry.pc.connectionState)) continue;
      if (entry) this._drop(name);
      this._start(name);
    }
    this.on.peers([...now]);
  }

  // A new connection to `name`: we offer if our rank is lower, else wait for their offer.
  _start(name) {
    const entry = this._create(name);
    if (offersTo(this.self, name)) {
      this._offer(name, entry);
    } else {
      entry.timer = setTimeout(() => {
        if (this.peers.get(name) === entry && !entry.pc.remoteDescription) this._offer(name, entry);
      }, FALLBACK_OFFER_MS);
    }
    return entry;
  }

  _create(name) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const entry = { pc, pending: [], restarts: 0, timer: null, making: false, stream: null, answering: false, restartAfter: false };
    this.peers.set(name, entry);
    if (this.localStream) {
      for (const track of this.localStream.getTracks()) pc.addTrack(track, this.localStream);
    }
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate && this.peers.get(name) === entry) {
        this.send({ type: "signal", to: name, data: { candidate: event.candidate.toJSON() } });
      }
    });
    pc.addEventListener("track", (event) => {
      if (this.peers.get(name) !== entry) return;
      entry.stream = event.streams[0] || entry.stream || new MediaStream();
      if (!event.streams[0]) entry.stream.addTrack(event.track);
      this.on.remote(name, entry.stream);
    });
    pc.addEventListener("connectionstatechange", () => this._pcState(name, entry));
    return entry;
  }

  // The offering side asks for both kinds of media even when it sends none of one (audio only).
  _wantMedia(pc) {
    const kinds = new Set(pc.getTransceivers().map((t) => t.receiver.track && t.receiver.track.kind));
    for (const kind of ["audio", "video"]) {
      if (!kinds.has(kind)) pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  async _offer(name, entry) {
    const pc = entry.pc;
    try {
      entry.making = true;
      this._wantMedia(pc);
      await pc.setLocalDescription(await pc.createOffer());
      if (this.peers.get(name) !== entry) return;
      this.send({ type: "signal", to: name, data: { description: pc.localDescription.toJSON() } });
    } catch (e) {
      console.warn("offer to", name, "failed", e);
    } finally {
      entry.making = false;
    }
  }

  async _signal(from, data) {
    if (!from || from === this.self) return;
    try {
      if (data.description) await this._description(from, data.description);
      else if (data.candidate) await this._candidate(from, data.candidate);
    } catch (e) {
      console.warn("signal from", from, "failed", e);
    }
  }

  async _description(from, description) {
    let entry = this.peers.get(from);
    if (description.type === "offer") {
      const busy = entry && (entry.making || entry.pc.signalingState !== "stable");
      // Collision: the lower rank keeps its own offer and ignores this one.
      if (busy && offersTo(this.self, from)) return;
      if (entry) this._drop(from, true);
      entry = this._create(from);
      entry.answering = true; // a restart meanwhile waits, or the offer would go unanswered
      try {
        await entry.pc.setRemoteDescription(description);
        await this._drain(entry);
        await entry.pc.setLocalDescription(await entry.pc.createAnswer());
      } finally {
        entry.answering = false;
      }
      if (this.peers.get(from) !== entry) return;
      this.send({ type: "signal", to: from, data: { description: entry.pc.localDescription.toJSON() } });
      if (entry.restartAfter) this._restartOne(from);
    } else if (description.type === "answer" && entry && entry.pc.signalingState === "have-local-offer") {
      await entry.pc.setRemoteDescription(description);
      await this._drain(entry);
    }
  }

  async _candidate(from, candidate) {
    const entry = this.peers.get(from);
    if (!entry) return;
    if (!entry.pc.remoteDescription) { entry.pending.push(candidate); return; }
    await entry.pc.addIceCandidate(candidate).catch(noop); // one from a replaced connection
  }

  async _drain(entry) {
    const pending = entry.pending.splice(0);
    for (const candidate of pending) await entry.pc.addIceCandidate(candidate).catch(noop);
  }

  _pcState(name, entry) {
    if (this.peers.get(name) !== entry) return;
    const state = entry.pc.connectionState;
    if (state === "connected") {
      entry.restarts = 0;
      this._markConnected(true);
    } else if (state === "failed" && offersTo(this.self, name) && entry.restarts < MAX_RESTARTS) {
      // A fresh offer (new ICE gathering) often gets through where the first one did not.
      const restarts = entry.restarts + 1;
      this._drop(name, true);
      this._start(name).restarts = restarts;
    }
    if (state !== "connected") this._markConnected(false);
    this.on.peerState(name, state);
  }

  _markConnected(up) {
    const main = document.querySelector("main");
    if (!main) return;
    if (up) main.dataset.callState = "connected";
    else if (main.dataset.callState === "connected" && !this.anyConnected()) main.dataset.callState = "admitted";
  }

  anyConnected() {
    for (const entry of this.peers.values()) if (entry.pc.connectionState === "connected") return true;
    return false;
  }

  _drop(name, quiet) {
    const entry = this.peers.get(name);
    if (!entry) return;
    this.peers.delete(name);
    clearTimeout(entry.timer);
    entry.pc.close();
    if (!quiet) {
      this.on.remote(name, null);
      this.on.peerState(name, "closed");
    }
    this._markConnected(false);
  }

  _dropAll() {
    for (const name of [...this.peers.keys()]) this._drop(name);
  }

  // --- what the page calls ------------------------------------------------------------------

  pc(peer) {
    const entry = this.peers.get(peer);
    return entry ? entry.pc : null;
  }

  peerNames() {
    return [...this.peers.keys()];
  }

  // Sent back to the waiting room: no connection may outlive the admission.
  dropPeers() {
    this._dropAll();
  }

  isOpen() {
    return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN);
  }

  sendChat(text) {
    const clean = String(text || "").trim().slice(0, 2000);
    if (clean) this.send({ type: "chat", text: clean });
    return Boolean(clean);
  }

  join(code) {
    this.send({ type: "join", code });
  }

  fallback(mode) {
    this.send({ type: "fallback", mode });
  }

  setMuted(muted) {
    this.muted = Boolean(muted);
    if (this.localStream) this.localStream.getAudioTracks().forEach((t) => { t.enabled = !this.muted; });
  }

  setCameraOff(off) {
    this.cameraOff = Boolean(off);
    if (this.localStream) this.localStream.getVideoTracks().forEach((t) => { t.enabled = !this.cameraOff; });
  }

  // Another camera or microphone, or audio only: swap tracks where a sender exists, otherwise
  // start every connection afresh (a new kind of media needs a new negotiation).
  setLocalStream(stream) {
    const old = this.localStream;
    this.localStream = stream;
    this.setMuted(this.muted);
    this.setCameraOff(this.cameraOff);
    if (this.held) {
      this.mediaReady();
      return;
    }
    let renegotiate = false;
    for (const entry of this.peers.values()) {
      for (const kind of ["audio", "video"]) {
        const track = stream ? stream.getTracks().find((t) => t.kind === kind) || null : null;
        const sender = entry.pc.getSenders().find((s) => s.track && s.track.kind === kind);
        if (sender) sender.replaceTrack(track).catch(noop);
        else if (track) renegotiate = true;
      }
    }
    if (old && old !== stream) old.getTracks().forEach((t) => { if (!stream || !stream.getTracks().includes(t)) t.stop(); });
    if (renegotiate) this.restart();
  }

  // Every connection anew, offered by us whatever our rank (the other side yields or answers).
  restart() {
    for (const name of [...this.peers.keys()]) this._restartOne(name);
  }

  _restartOne(name) {
    const old = this.peers.get(name);
    if (old && old.answering) {
      old.restartAfter = true;
      return;
    }
    this._drop(name, true);
    this._offer(name, this._create(name));
  }

  stopLocal() {
    if (this.localStream) this.localStream.getTracks().forEach((t) => t.stop());
  }

  hangUp() {
    this.closed = true;
    this._dropAll();
    this.stopLocal();
    clearInterval(this.pingTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, "hang up");
    }
  }
}
