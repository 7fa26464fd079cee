/* The search page's passages for a book opened from disk (book_ext/offline_search.py).
 *
 * Sphinx's searchtools.js fetches each result's page to cut a passage from it; from
 * file:// the browser refuses. search_texts.js, loaded just before this file, holds every
 * page's text: a fetch of one of the book's pages is answered from it, anything else goes
 * to the browser's own fetch.
 */
(function () {
  "use strict";
  var texts = window.BOOK_SEARCH_TEXTS || {};
  var browserFetch = window.fetch ? window.fetch.bind(window) : null;
  var root = new URL(document.documentElement.dataset.content_root || "./", window.location.href);

  function docname(resource) {
    var url = new URL(typeof resource === "string" ? resource : resource.url, window.location.href);
    url.hash = "";
    url.search = "";
    if (url.href.indexOf(root.href) !== 0) return null;
    var name = url.href.slice(root.href.length).replace(/\.html$/, "");
    return Object.prototype.hasOwnProperty.call(texts, name) ? name : null;
  }

  window.fetch = function (resource, options) {
    var name = docname(resource);
    if (name !== null) {
      var page = '<html><body><div role="main">' + texts[name] + "</div></body></html>";
      return Promise.resolve(new Response(page, { headers: { "Content-Type": "text/html" } }));
    }
    return browserFetch(resource, options);
  };
})();
