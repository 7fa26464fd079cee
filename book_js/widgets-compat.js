/* Glue between the book's offline scripts and the ipywidgets HTML manager (embed-amd.js).
 * Loaded after require.js and before embed-amd.js (_config.yml, nb_ipywidgets_js).
 * Found by tests/test_browser.py, which fails on any console error.
 *
 * 1. The manager's fonts (Font Awesome, copied next to embed-amd.js by tools/vendor_js.sh)
 *    were looked up relative to the page (chapters/@jupyter-widgets/html-manager/dist/...,
 *    the requirejs URI of its module): map that module path to the folder it lives in.
 * 2. The manager typesets widget labels with the MathJax 2 call MathJax.Hub.Queue; the
 *    book loads MathJax 3, which has no Hub, so every label threw a TypeError. Route the
 *    call to MathJax 3's typesetPromise.
 */
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (here) {
    var folder = new URL("widgets/", here).href;
    window.__jupyter_widgets_assets_path__ = folder;
    // The manager's CSS asks for its fonts relative to the requirejs URI of its module.
    if (window.require && window.require.config) {
      window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": folder.slice(0, -1) } });
    }
  }
  function addHub() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element && window.MathJax.typesetPromise) {
          window.MathJax.typesetPromise([element]).catch(function () {});
        }
      }
    };
  }
  // MathJax 3 (loaded with `defer`) replaces its configuration object when it starts, so
  // add the shim once it is there; this listener runs before the widget manager renders.
  document.addEventListener("DOMContentLoaded", addHub);
  window.addEventListener("load", addHub);
})();
