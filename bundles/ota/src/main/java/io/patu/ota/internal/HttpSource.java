package io.patu.ota.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A release served over HTTP(S) by any static web server. A resumed download asks for the rest with
 * {@code Range: bytes=N-}; a server that answers the whole file instead (200) starts the download over.
 */
final class HttpSource implements ReleaseSource {
    private final URI base;
    private final Duration timeout;
    private final HttpClient client;

    HttpSource(URI base, Duration timeout) {
        this.base = base;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    @Override
    public Opened open(String name, long offset) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(name)).timeout(timeout).GET();
        if (offset > 0) {
            request.header("Range", "bytes=" + offset + "-");
        }
        HttpResponse<InputStream> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + base.resolve(name));
        }
        int status = response.statusCode();
        if (status == 206 && offset > 0) {
            return new Opened(response.body(), offset);
        }
        if (status == 416 && offset > 0) {
            // Nothing past what was fetched: the file ends there.
            response.body().close();
            return new Opened(InputStream.nullInputStream(), offset);
        }
        if (status == 200) {
            return new Opened(response.body(), 0);
        }
        response.body().close();
        if (status == 404) {
            throw new java.io.FileNotFoundException(base.resolve(name) + ": 404 not found");
        }
        throw new IOException(base.resolve(name) + ": HTTP " + status);
    }

    @Override
    public void close() {
        client.close();
    }

    @Override
    public String describe() {
        return base.toString();
    }
}
