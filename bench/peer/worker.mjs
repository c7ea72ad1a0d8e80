// The benchmark's peer: a Worker on Miniflare (Cloudflare's local simulator)
// that takes flareq's push request and sends its message with the Queues
// binding: POST .../messages {"body": ..., "content_type": "text"|"json"}
// -> env.QUEUE.send(body). Other requests get a 404.
const json = { "content-type": "application/json" };

function failure(status, message) {
  const body = { success: false, errors: [{ code: 10000, message }], messages: [], result: null };
  return new Response(JSON.stringify(body), { status, headers: json });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== "POST" || !url.pathname.endsWith("/messages")) {
      return failure(404, "not found");
    }
    let message;
    try {
      message = await request.json();
    } catch {
      return failure(400, "the body is not JSON");
    }
    if (message === null || typeof message !== "object" || !("body" in message)) {
      return failure(400, "body is missing");
    }
    await env.QUEUE.send(message.body, {
      contentType: message.content_type === "json" ? "json" : "text",
    });
    return new Response('{"success":true,"errors":[],"messages":[],"result":{}}', {
      headers: json,
    });
  },
};
