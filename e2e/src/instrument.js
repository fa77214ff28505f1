// Installed into every document before the page's own scripts (CDP
// Page.addScriptToEvaluateOnNewDocument). It observes what a person would: the remote <video>'s
// picture and sound, and the status the page shows; plus, for diagnosis and for the cross-room
// check, the page's console and the Socket.IO events on its WebSockets. It never changes what the
// page does.
(() => {
  if (window.__e2e) return;
  const e2e = (window.__e2e = {
    console: [],
    states: [],
    samples: [],
    sent: {},
    received: {},
    ufragsSent: [],
    ufragsReceived: [],
  });
  const now = () => performance.now();

  // Call set-up timing for the benchmark (bench/): when the remote <video> first had a frame
  // (loadeddata) and first played, on this page's clock (0 = the navigation's start). Media
  // events do not bubble, so listen in the capture phase: the element may not exist yet.
  const firstOnly = (key) => (e) => {
    if (e.target && e.target.id === 'remotevideo' && e2e[key] === undefined) e2e[key] = now();
  };
  document.addEventListener('loadeddata', firstOnly('remoteFirstFrameAt'), true);
  document.addEventListener('playing', firstOnly('remotePlayingAt'), true);

  // The call set-up's phases, for the benchmark: the first time of each on this page's clock.
  // eioOpen: the Engine.IO handshake arrived; connected: Socket.IO's "40"; joinSent; allUsers;
  // offer and answer: sent or received, whichever came first; iceConnected (any peer
  // connection's ICE state reaching connected); pcConnected (DTLS done too); script: the seed
  // client's own code calling io.connect (Duet's is its `duet:wasm-start` mark). Seen on
  // WebSockets and on socket.io-client's XHR polling alike.
  const phases = (e2e.phases = {});
  const phase = (k) => {
    if (phases[k] === undefined) phases[k] = now();
  };
  const observe = (sent, packet) => {
    if (typeof packet !== 'string') return;
    if (!sent && packet.startsWith('0')) phase('eioOpen');
    if (!sent && packet.startsWith('40')) phase('connected');
    if (!packet.startsWith('42')) return;
    const start = packet.indexOf('[');
    let name = null;
    try {
      name = String(JSON.parse(packet.slice(start))[0]);
    } catch (_) {
      return;
    }
    if (sent && name === 'join_room') phase('joinSent');
    if (!sent && name === 'all_users') phase('allUsers');
    if ((sent && name === 'offer') || (!sent && name === 'getOffer')) phase('offer');
    if ((sent && name === 'answer') || (!sent && name === 'getAnswer')) phase('answer');
  };
  // Engine.IO v3 polling bodies: text `<length>:<packet>…` (lengths in UTF-16 units, as
  // String.length counts), or binary: per packet a 0 (string) or 1 (binary) byte, the length
  // as one byte per decimal digit, 0xFF, the bytes.
  const pollingPackets = (body) => {
    const out = [];
    if (typeof body === 'string') {
      let i = 0;
      while (i < body.length) {
        const colon = body.indexOf(':', i);
        if (colon < 0) break;
        const n = Number(body.slice(i, colon));
        if (!Number.isFinite(n)) break;
        out.push(body.slice(colon + 1, colon + 1 + n));
        i = colon + 1 + n;
      }
    } else if (body instanceof ArrayBuffer) {
      const b = new Uint8Array(body);
      let i = 0;
      while (i < b.length) {
        const text = b[i] === 0;
        let n = 0;
        i += 1;
        while (i < b.length && b[i] !== 255) n = n * 10 + b[i++];
        i += 1;
        if (text) out.push(new TextDecoder().decode(b.subarray(i, i + n)));
        i += n;
      }
    }
    return out;
  };
  const NativeOpen = XMLHttpRequest.prototype.open;
  const NativeSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__e2eSocketIo = String(url).includes('/socket.io/');
    return NativeOpen.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (this.__e2eSocketIo) {
      for (const p of pollingPackets(body)) observe(true, p);
      this.addEventListener('load', () => {
        const data = this.responseType === 'arraybuffer' ? this.response : this.responseText;
        for (const p of pollingPackets(data)) observe(false, p);
      });
    }
    return NativeSend.call(this, body);
  };
  // The page's peer connections, newest last, so a test can ask getStats which candidate pair
  // ICE selected (crate::ice), and the set-up phases they reach. Only remembered, never touched.
  // Every connection's state changes, with the time, so a test can print how a recovery went.
  e2e.pcs = [];
  e2e.links = [];
  let pcCount = 0;
  const NativePeerConnection = window.RTCPeerConnection;
  if (NativePeerConnection) {
    window.RTCPeerConnection = class extends NativePeerConnection {
      constructor(...args) {
        super(...args);
        const n = ++pcCount;
        e2e.pcs.push(this);
        if (e2e.pcs.length > 16) e2e.pcs.shift();
        const log = (what) => {
          e2e.links.push({ t: now(), pc: n, what });
          if (e2e.links.length > 500) e2e.links.shift();
        };
        log('new');
        this.addEventListener('iceconnectionstatechange', () => {
          log(`ice ${this.iceConnectionState}`);
          if (['connected', 'completed'].includes(this.iceConnectionState)) phase('iceConnected');
        });
        this.addEventListener('connectionstatechange', () => {
          log(`link ${this.connectionState}`);
          if (this.connectionState === 'connected') phase('pcConnected');
        });
      }
    };
  }
  let socketIo;
  Object.defineProperty(window, 'io', {
    configurable: true,
    get: () => socketIo,
    set: (v) => {
      socketIo = v;
      if (v && typeof v.connect === 'function') {
        const connect = v.connect;
        v.connect = function (...args) {
          phase('script');
          return connect.apply(this, args);
        };
      }
    },
  });

  // Console and uncaught errors, kept for the failure report.
  const fmt = (a) => {
    if (typeof a === 'string') return a;
    if (a instanceof Error) return `${a.name}: ${a.message}`;
    try {
      return JSON.stringify(a);
    } catch (_) {
      return String(a);
    }
  };
  const remember = (line) => {
    e2e.console.push(`${new Date().toISOString()} ${line}`);
    if (e2e.console.length > 3000) e2e.console.shift();
  };
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
      try {
        remember(`${level}: ${args.map(fmt).join(' ')}`);
      } catch (_) {}
      original(...args);
    };
  }
  addEventListener('error', (e) => remember(`uncaught: ${e.message} (${e.filename}:${e.lineno})`));
  addEventListener('unhandledrejection', (e) => remember(`unhandled rejection: ${fmt(e.reason)}`));

  // Socket.IO event packets ("42[name, ...]") per event name, both ways, and the ICE username
  // fragments inside relayed descriptions and candidates: a page that receives a fragment its
  // partner never sent got a message from another call.
  const ufrags = (payload) => {
    const found = [];
    const text = JSON.stringify(payload);
    for (const m of text.matchAll(/a=ice-ufrag:([^\\\r\n"]+)/g)) found.push(m[1]);
    for (const m of text.matchAll(/ufrag ([^ "\\]+)/g)) found.push(m[1]);
    for (const m of text.matchAll(/"usernameFragment":"([^"]+)"/g)) found.push(m[1]);
    return found;
  };
  const count = (table, frags, data) => {
    if (typeof data !== 'string' || !data.startsWith('42')) return;
    const start = data.indexOf('[');
    if (start < 0) return;
    try {
      const packet = JSON.parse(data.slice(start));
      const name = String(packet[0]);
      table[name] = (table[name] || 0) + 1;
      if (name === 'offer' || name === 'answer' || name === 'candidate' || name.startsWith('get')) {
        for (const f of ufrags(packet.slice(1))) if (!frags.includes(f)) frags.push(f);
      }
    } catch (_) {}
  };
  const NativeWebSocket = window.WebSocket;
  class CountingWebSocket extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => phase('socketOpen'));
      this.addEventListener('message', (ev) => {
        count(e2e.received, e2e.ufragsReceived, ev.data);
        observe(false, ev.data);
      });
    }
    send(data) {
      count(e2e.sent, e2e.ufragsSent, data);
      observe(true, data);
      return super.send(data);
    }
  }
  window.WebSocket = CountingWebSocket;

  // The remote picture and sound, sampled every 100 ms: decoded frames, playback time, mean
  // brightness of the picture, and the peak level of its audio over the analyser's window.
  const canvas = document.createElement('canvas');
  canvas.width = 32;
  canvas.height = 24;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  let audio = null; // { stream, analyser, buffer }
  let context = null;
  const picture = (v) => {
    if (!v.videoWidth) return null;
    try {
      g.drawImage(v, 0, 0, canvas.width, canvas.height);
      const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
      let luma = 0;
      let chroma = 0;
      for (let i = 0; i < px.length; i += 4) {
        luma += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        chroma += Math.abs(px[i] - px[i + 1]) + Math.abs(px[i + 1] - px[i + 2]);
      }
      const n = px.length / 4;
      return { luma: luma / n, chroma: chroma / n };
    } catch (_) {
      return null;
    }
  };
  const level = (v) => {
    const stream = v.srcObject;
    if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) return null;
    try {
      if (!context) context = new AudioContext();
      if (context.state === 'suspended') context.resume();
      if (!audio || audio.stream !== stream) {
        const analyser = context.createAnalyser();
        analyser.fftSize = 32768; // ~0.7 s: every beep of the fake microphone is seen
        context.createMediaStreamSource(stream).connect(analyser);
        audio = { stream, analyser, buffer: new Float32Array(analyser.fftSize) };
      }
      audio.analyser.getFloatTimeDomainData(audio.buffer);
      let peak = 0;
      for (const x of audio.buffer) peak = Math.max(peak, Math.abs(x));
      return peak;
    } catch (_) {
      return null;
    }
  };
  const sample = () => {
    const status = document.getElementById('callstatus');
    const state = status ? status.getAttribute('data-state') : null;
    const last = e2e.states[e2e.states.length - 1];
    if (state && (!last || last.state !== state)) e2e.states.push({ t: now(), state });
    const v = document.getElementById('remotevideo');
    if (!v) return;
    const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    const pic = picture(v);
    e2e.samples.push({
      t: now(),
      currentTime: v.currentTime,
      // Firefox leaves totalVideoFrames at 0 for a WebRTC stream; its painted-frame count moves.
      frames: (q && q.totalVideoFrames) || v.mozPaintedFrames || 0,
      luma: pic ? pic.luma : null,
      chroma: pic ? pic.chroma : null,
      audio: level(v),
    });
    if (e2e.samples.length > 600) e2e.samples.shift();
  };
  setInterval(sample, 100);

  const trackInfo = (t) => ({ kind: t.kind, enabled: t.enabled, muted: t.muted, readyState: t.readyState, label: t.label });
  const videoInfo = (id) => {
    const v = document.getElementById(id);
    if (!v) return null;
    const stream = v.srcObject instanceof MediaStream ? v.srcObject : null;
    return {
      width: v.videoWidth,
      height: v.videoHeight,
      paused: v.paused,
      readyState: v.readyState,
      currentTime: v.currentTime,
      tracks: stream ? stream.getTracks().map(trackInfo) : [],
    };
  };

  // What the test reads: the current state and the last `windowMs` of samples, summarised.
  e2e.snapshot = (windowMs) => {
    const status = document.getElementById('callstatus');
    const t = now();
    const recent = e2e.samples.filter((s) => s.t >= t - windowMs);
    const first = recent[0];
    const lastSample = recent[recent.length - 1];
    const lumas = recent.map((s) => s.luma).filter((x) => x !== null);
    const chromas = recent.map((s) => s.chroma).filter((x) => x !== null);
    const levels = recent.map((s) => s.audio).filter((x) => x !== null);
    const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    return {
      state: status ? status.getAttribute('data-state') : null,
      status_text: status ? status.textContent : null,
      problem: (document.getElementById('callproblem') || {}).textContent || null,
      states: e2e.states.map((s) => s.state),
      remote: videoInfo('remotevideo'),
      local: videoInfo('localvideo'),
      window_ms: first && lastSample ? lastSample.t - first.t : 0,
      advanced_s: first && lastSample ? lastSample.currentTime - first.currentTime : 0,
      new_frames: first && lastSample ? lastSample.frames - first.frames : 0,
      luma: mean(lumas),
      max_luma: lumas.length ? Math.max(...lumas) : null,
      chroma: mean(chromas),
      audio_peak: levels.length ? Math.max(...levels) : null,
      sent: e2e.sent,
      received: e2e.received,
      ufrags_sent: e2e.ufragsSent,
      ufrags_received: e2e.ufragsReceived,
    };
  };
})();
