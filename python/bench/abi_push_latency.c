/*
 * 4 KiB push latency through the C ABI alone (include/tensor_protocol.h), for bench_push.py: the same pushes the
 * Python client makes, with the completion path of the package's blocking API (the node's tp_queue, waited on in
 * tp_queue_wait by the calling thread; asyncio waits on the queue's eventfd in epoll instead), but no interpreter.
 * Its p50 minus the C# client's is what the native completion path costs; the blocking API's minus this one is what
 * the Python side costs.
 *
 * usage: abi_push_latency TICKET WARMUP COUNT     prints {"p50_us": n, "p99_us": n} on stdout
 */
#include "tensor_protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fail(const char *what, const char *message)
{
    fprintf(stderr, "abi_push_latency: %s: %s\n", what, message);
    return 1;
}

/* Pushes once and waits for its completion event; returns 0 or reports the failure. */
static int push_once(tp_node *node, tp_queue *queue, const char *ticket, const tp_tensor_view *view)
{
    if (tp_node_send(node, ticket, "small", view, NULL, NULL, NULL, NULL, (void *)1) != TP_OK) {
        return fail("tp_node_send", tp_last_error());
    }
    tp_event events[8];
    for (;;) {
        int32_t count = 0, ready = 0;
        if (tp_queue_poll(queue, events, 8, &count) != TP_OK) {
            return fail("tp_queue_poll", tp_last_error());
        }
        for (int32_t i = 0; i < count; i++) {
            if (events[i].kind == TP_EVENT_COMPLETION && events[i].user_data == 1) {
                return events[i].status == TP_OK ? 0 : fail("push", events[i].error);
            }
        }
        if (tp_queue_wait(queue, 1000, &ready) != TP_OK) {
            return fail("tp_queue_wait", tp_last_error());
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: abi_push_latency TICKET WARMUP COUNT\n");
        return 2;
    }
    const char *ticket = argv[1];
    int warmup = atoi(argv[2]), count = atoi(argv[3]);
    if (count <= 0 || warmup < 0) {
        return fail("arguments", "WARMUP must be >= 0 and COUNT > 0");
    }

    tp_node_options options;
    memset(&options, 0, sizeof options);
    options.struct_size = sizeof options;
    options.bind_address = "127.0.0.1";
    tp_node *node;
    tp_queue *queue;
    int32_t fd;
    if (tp_node_create(&options, &node) != TP_OK || tp_node_start(node) != TP_OK) {
        return fail("node", tp_last_error());
    }
    if (tp_queue_create(&queue, &fd) != TP_OK || tp_node_set_queue(node, queue) != TP_OK) {
        return fail("queue", tp_last_error());
    }

    static unsigned char payload[4096];
    int64_t shape[1] = {sizeof payload};
    tp_tensor_view view;
    memset(&view, 0, sizeof view);
    view.dtype = TP_U8;
    view.rank = 1;
    view.shape = shape;
    view.data = payload;
    view.data_len = sizeof payload;

    double *samples = malloc(sizeof(double) * (size_t)count);
    if (samples == NULL) {
        return fail("malloc", "out of memory");
    }
    for (int i = 0; i < warmup + count; i++) {
        double started = now_us();
        if (push_once(node, queue, ticket, &view) != 0) {
            return 1;
        }
        if (i >= warmup) {
            samples[i - warmup] = now_us() - started;
        }
    }
    qsort(samples, (size_t)count, sizeof(double), compare);
    printf("{\"p50_us\": %.1f, \"p99_us\": %.1f}\n", samples[count / 2], samples[(size_t)count * 99 / 100]);

    free(samples);
    tp_node_shutdown(node);
    tp_node_free(node);
    tp_queue_free(queue);
    return 0;
}
