// A small HTTP/1.1 load generator for the validate benchmark: closed-loop, or open-loop at a rate.
//
// Why not wrk: a valid TOTP code can be checked once per user and time step, so a run has a fixed
// list of requests, each to be sent exactly once; wrk runs for a fixed time and cannot say how long
// a list took. This sends every line of a file once (or GET requests for a duration), over C
// keep-alive connections, one request in flight per connection, and prints the rate, latency
// percentiles, status classes, how many bodies contain a marker such as "valid":true, and its own
// CPU time a request (it shares the machine's cores with the server).
//
//   loadgen -c 64 -p 8080 -k KEY -f bodies.txt [-m '"valid":true']   POST /api/v1/validate per line
//   loadgen -c 64 -p 8080 -g /health -d 10                            GET for 10 seconds
//   loadgen -c 64 -p 8080 -k KEY -f bodies.txt -r 2000                 the same list, 2,000 a second
//
// Closed-loop (the default), each connection sends its next request when the last is answered: it
// measures how many the server can answer, and its latencies are mostly time spent queued (64
// connections over N requests/s wait about 64/N s). With -r RATE, request i is due at start + i/RATE
// and goes out on the first free connection once due; its latency counts from when it was due, so
// a server that falls behind is charged for the queue it caused (no "coordinated omission"). That
// measures how long a check takes at a given load.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    char *out;      // the request being sent
    size_t out_len, out_sent;
    char in[65536]; // the response being read
    size_t in_len;
    uint64_t started_ns;
    int busy;
} conn;

static uint64_t clock_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int main(int argc, char **argv) {
    int connections = 64, port = 8080, duration = 10;
    double rate = 0;
    const char *key = "", *file = NULL, *get_path = NULL, *marker = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-c")) connections = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-p")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-k")) key = argv[i + 1];
        else if (!strcmp(argv[i], "-f")) file = argv[i + 1];
        else if (!strcmp(argv[i], "-g")) get_path = argv[i + 1];
        else if (!strcmp(argv[i], "-d")) duration = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-m")) marker = argv[i + 1];
        else if (!strcmp(argv[i], "-r")) {
            rate = atof(argv[i + 1]);
            if (rate <= 0) { fprintf(stderr, "-r needs a rate above 0\n"); return 2; }
        }
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (!file && !get_path) { fprintf(stderr, "give -f BODIES or -g PATH\n"); return 2; }

    // Every request, made up front so the loop only sends and reads.
    char **requests = NULL;
    size_t *lengths = NULL, total = 0;
    char *get_request = NULL;
    size_t get_length = 0;
    if (file) {
        FILE *input = fopen(file, "r");
        if (!input) die(file);
        size_t capacity = 1024;
        requests = malloc(capacity * sizeof *requests);
        lengths = malloc(capacity * sizeof *lengths);
        char *line = NULL;
        size_t line_capacity = 0;
        ssize_t n;
        while ((n = getline(&line, &line_capacity, input)) > 0) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
            if (n == 0) continue;
            if (total == capacity) {
                capacity *= 2;
                requests = realloc(requests, capacity * sizeof *requests);
                lengths = realloc(lengths, capacity * sizeof *lengths);
            }
            int length = asprintf(&requests[total],
                "POST /api/v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %zd\r\n\r\n%s", key, n, line);
            lengths[total++] = (size_t)length;
        }
        fclose(input);
        free(line);
    } else {
        get_length = (size_t)asprintf(&get_request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", get_path);
    }
    size_t capacity = file ? total : 1 << 20;
    uint64_t *latencies = malloc((capacity ? capacity : 1) * sizeof *latencies);

    int epoll = epoll_create1(0);
    conn *pool = calloc((size_t)connections, sizeof *pool);
    for (int i = 0; i < connections; i++) {
        pool[i].fd = connect_to(port);
        struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, pool[i].fd, &event);
    }

    size_t next = 0, done = 0, in_flight = 0, ok2xx = 0, status4xx = 0, status429 = 0, status5xx = 0, marked = 0, errors = 0;
    // This program's own CPU time over the run: it shares the machine's cores with the server.
    uint64_t cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t start = now_ns(), deadline = start + (uint64_t)duration * 1000000000u;
    struct epoll_event events[256];

    // When request i is due (open-loop), in ns since start.
    #define DUE(i) ((uint64_t)((double)(i) * 1e9 / rate))
    // Hands the connection its next request, if any is left (and, open-loop, once it is due).
    #define SEND_NEXT(c)                                                                          \
        do {                                                                                      \
            int more = file ? next < total : (now_ns() < deadline && done + in_flight < capacity); \
            if (!more) break;                                                                     \
            if (rate > 0 && now_ns() < start + DUE(next)) break;                                  \
            (c)->out = file ? requests[next] : get_request;                                       \
            (c)->out_len = file ? lengths[next] : get_length;                                     \
            next++;                                                                               \
            (c)->out_sent = 0;                                                                    \
            (c)->in_len = 0;                                                                      \
            (c)->busy = 1;                                                                        \
            in_flight++;                                                                          \
            (c)->started_ns = rate > 0 ? start + DUE(next - 1) : now_ns();                          \
        } while (0)
    #define MORE_TO_SEND (file ? next < total : (now_ns() < deadline && done + in_flight < capacity))

    for (int i = 0; i < connections; i++) SEND_NEXT(&pool[i]);
    while (in_flight > 0 || MORE_TO_SEND) {
        // Write what is pending on every busy connection (edge-triggered: try until EAGAIN); open-loop,
        // first give the requests now due to the free connections.
        for (int i = 0; i < connections; i++) {
            conn *c = &pool[i];
            if (rate > 0 && !c->busy) SEND_NEXT(c);
            while (c->busy && c->out_sent < c->out_len) {
                ssize_t sent = write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);
                if (sent < 0) { if (errno != EAGAIN) die("write"); break; }
                c->out_sent += (size_t)sent;
            }
        }
        // Open-loop with requests still to come and a free connection: wake when the next one falls
        // due, or within a millisecond (with every connection busy, an answer wakes the loop).
        struct timespec wait = {.tv_sec = 1};
        if (rate > 0 && MORE_TO_SEND && in_flight < (size_t)connections) {
            uint64_t due = start + DUE(next), at = now_ns();
            wait = (struct timespec){.tv_sec = 0, .tv_nsec = due > at ? (long)(due - at < 1000000 ? due - at : 1000000) : 0};
        }
        int ready = epoll_pwait2(epoll, events, 256, &wait, NULL);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("epoll_pwait2");
        }
        for (int e = 0; e < ready; e++) {
            conn *c = &pool[events[e].data.u32];
            for (;;) {
                ssize_t got = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len - 1);
                if (got < 0) { if (errno != EAGAIN) die("read"); break; }
                if (got == 0) { fprintf(stderr, "server closed a connection\n"); errors++; exit(1); }
                c->in_len += (size_t)got;
                c->in[c->in_len] = 0;
                char *end = strstr(c->in, "\r\n\r\n");
                if (!end || !c->busy) continue;
                char *length_header = strcasestr(c->in, "\r\ncontent-length:");
                size_t body_length = length_header && length_header < end ? strtoul(length_header + 17, NULL, 10) : 0;
                size_t header_length = (size_t)(end - c->in) + 4;
                if (c->in_len < header_length + body_length) continue;
                // One whole response.
                int status = atoi(c->in + 9);
                if (status >= 200 && status < 300) ok2xx++;
                else if (status == 429) status429++;
                else if (status >= 400 && status < 500) status4xx++;
                else status5xx++;
                if (marker && memmem(c->in + header_length, body_length, marker, strlen(marker))) marked++;
                if (done < capacity) latencies[done] = now_ns() - c->started_ns;
                done++;
                in_flight--;
                c->busy = 0;
                size_t rest = c->in_len - header_length - body_length;
                memmove(c->in, c->in + header_length + body_length, rest);
                c->in_len = rest;
                SEND_NEXT(c);
                if (c->busy) {
                    while (c->out_sent < c->out_len) {
                        ssize_t sent = write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);
                        if (sent < 0) { if (errno != EAGAIN) die("write"); break; }
                        c->out_sent += (size_t)sent;
                    }
                }
            }
        }
    }
    double seconds = (double)(now_ns() - start) / 1e9;
    double cpu_us = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / 1e3;
    size_t measured = done < capacity ? done : capacity;
    qsort(latencies, measured, sizeof *latencies, cmp_u64);
    double p50 = measured ? latencies[measured / 2] / 1e6 : 0;
    double p99 = measured ? latencies[(size_t)((double)measured * 0.99)] / 1e6 : 0;
    double max = measured ? latencies[measured - 1] / 1e6 : 0;
    printf("requests=%zu seconds=%.2f rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f 2xx=%zu 4xx=%zu 429=%zu 5xx=%zu marked=%zu errors=%zu own_cpu_us=%.1f\n",
        done, seconds, (double)done / seconds, p50, p99, max, ok2xx, status4xx, status429, status5xx, marked, errors,
        done ? cpu_us / (double)done : 0);
    return 0;
}
