// guise player: plays the <video data-hls-src> of a player page (src/http/player.c).
// Native HLS where the browser has it (Safari, iOS, some Android), hls.js
// (served by guised as /.guise/hls.min.js) otherwise, a clear message when
// neither can. Loaded with <script src defer>: no inline script on the page.
(function () {
  'use strict';
  function say(text) {
    var m = document.getElementById('player-message');
    if (m) {
      m.textContent = text;
      m.hidden = false;
    }
  }
  function start() {
    var v = document.querySelector('video[data-hls-src]');
    if (!v) return;
    var src = v.getAttribute('data-hls-src');
    v.dataset.engine = 'none';
    var hlsjs = window.Hls && window.Hls.isSupported();
    if (v.canPlayType('application/vnd.apple.mpegurl')) {
      v.dataset.engine = 'native';
      // Chromium's native HLS refuses some live playlists (measured: a
      // guise broadcast point, MEDIA_ERR_SRC_NOT_SUPPORTED) that hls.js
      // plays: fall back to it once.
      v.addEventListener('error', function onerr() {
        v.removeEventListener('error', onerr);
        if (!hlsjs || v.dataset.engine !== 'native') return;
        v.removeAttribute('src');
        v.load();
        useHlsjs();
      });
      v.src = src;
      return;
    }
    if (hlsjs) {
      useHlsjs();
      return;
    }
    noPlayer();
    function useHlsjs() {
      // Same-origin requests carry the viewer's credentials (cookies, the
      // browser's cached Basic/Digest answer) as a plain <video src> would.
      var hls = new window.Hls({ enableWorker: true });
      v.dataset.engine = 'hls.js';
      hls.on(window.Hls.Events.ERROR, function (ev, data) {
        if (data && data.fatal) {
          say('The stream cannot be played (' + (data.details || data.type) + ').');
          v.dataset.error = String(data.details || data.type);
        }
      });
      hls.loadSource(src);
      hls.attachMedia(v);
    }
    function noPlayer() {
    if (v.getAttribute('data-hlsjs') === 'no') {
      say('This browser has no native HLS and this server has no hls.js installed: ' +
          'use "Open in VLC/mpv" below.');
    } else {
      say('This browser can play neither HLS nor Media Source Extensions: ' +
          'use "Open in VLC/mpv" below.');
    }
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
