// Escaping for the server-rendered status page: every string that comes from
// traffic (symbols, device ids, firmware versions, query parameters) goes
// through these before it is written into HTML.
//
// Thread safety: pure functions; call them from any thread.
#ifndef TKMPROM_SRC_HTTP_HTML_ESCAPE_H_
#define TKMPROM_SRC_HTTP_HTML_ESCAPE_H_

#include <string>
#include <string_view>

namespace tkmprom {

// Appends `text` to `out` with & < > " ' replaced by character references,
// so that it is inert both as element text and inside a quoted attribute
// value. Other bytes are copied as they are.
void AppendHtmlEscaped(std::string_view text, std::string* out);
std::string HtmlEscape(std::string_view text);

// Percent-encodes `text` for a query parameter value (RFC 3986: everything
// but unreserved characters A-Z a-z 0-9 - . _ ~). The result still needs
// HtmlEscape() when written into an attribute (for its '&' separators).
std::string UrlEncodeQueryValue(std::string_view text);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_HTML_ESCAPE_H_
