// HTML's five special characters, escaped: for the lessons site (src/teach/) and the trace pages (src/trace/), which both
// write HTML by hand.
export const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
