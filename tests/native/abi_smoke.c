/*
 * Drives libtensor_protocol through include/tensor_protocol.h alone, as any C program would: two nodes on
 * loopback, a push, a pull, the release and completion contracts, and error codes. Built and run by
 * python/tests/test_c_abi.py. Exit code 0 only if every check held; each failure prints one line.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include "tensor_protocol.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (last error: %s)\n", tp_last_error()); } } while (0)

typedef struct op {
    sem_t done;
    int32_t status;
    char error[512];
    tp_tensor *tensor;
    int calls;
} op;

static void on_done(void *user_data, int32_t status, const char *error, tp_tensor *tensor) {
    op *o = user_data;
    o->status = status;
    o->tensor = tensor;
    o->calls++;
    snprintf(o->error, sizeof o->error, "%s", error ? error : "");
    sem_post(&o->done);
}

static sem_t released;
static int release_calls;
static void on_release(void *user_data) {
    (void)user_data;
    __atomic_add_fetch(&release_calls, 1, __ATOMIC_SEQ_CST);
    sem_post(&released);
}

/* Waits at most 20 s: a hang is a failure, never a stuck test. */
static int wait_for(sem_t *s) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20;
    return sem_timedwait(s, &deadline) == 0;
}

static tp_node *start_node(void) {
    tp_node_options options = {0};
    options.struct_size = sizeof options;
    options.bind_address = "127.0.0.1";
    tp_node *node = NULL;
    CHECK(tp_node_create(&options, &node) == TP_OK, "create");
    CHECK(tp_node_start(node) == TP_OK, "start");
    return node;
}

int main(void) {
    CHECK(tp_abi_version() == TP_ABI_VERSION, "abi version %d", tp_abi_version());
    sem_init(&released, 0, 0);
    {
        /* Sizes above 2^63 - 1 are an invalid argument (they were an internal error: an overflow in the library). */
        tp_node_options options = {0};
        options.struct_size = sizeof options;
        options.max_tensor_bytes = UINT64_MAX;
        tp_node *none = NULL;
        CHECK(tp_node_create(&options, &none) == TP_ERR_INVALID_ARGUMENT && none == NULL, "max_tensor_bytes beyond int64");
    }
    tp_node *a = start_node(), *b = start_node();

    char ticket[1024];
    size_t length = 0;
    CHECK(tp_node_ticket(b, ticket, 4, &length) == TP_ERR_BUFFER_TOO_SMALL && length > 4, "small buffer");
    CHECK(tp_node_ticket(b, ticket, sizeof ticket, &length) == TP_OK && strlen(ticket) == length, "ticket");
    CHECK(strncmp(ticket, "tensorp1", 8) == 0, "ticket prefix: %s", ticket);
    char id_a[128];
    CHECK(tp_node_id(a, id_a, sizeof id_a, &length) == TP_OK && length == 52, "node id");

    /* Push 1 MiB of float32 with metadata; the receiver sees every byte, the shape, the sender. */
    enum { N = 262144 };
    float *values = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) values[i] = (float)i * 0.5f;
    int64_t shape[2] = {512, 512};
    const char *keys[] = {"step"}, *vals[] = {"42"};
    tp_tensor_view view = {TP_F32, 2, shape, values, N * sizeof(float), 1, 1, keys, vals};
    op send = {0};
    sem_init(&send.done, 0, 0);
    CHECK(tp_node_send(a, ticket, "weights", &view, on_release, NULL, NULL, on_done, &send) == TP_OK, "send");
    CHECK(wait_for(&send.done) && send.status == TP_OK, "send completes: %d %s", send.status, send.error);
    CHECK(wait_for(&released) && release_calls == 1, "send memory released once");

    tp_tensor *got = NULL;
    CHECK(tp_node_try_receive(b, &got) == TP_OK && got != NULL, "try_receive");
    tp_tensor_info info;
    CHECK(tp_tensor_get_info(got, &info) == TP_OK, "info");
    CHECK(strcmp(info.name, "weights") == 0 && strcmp(info.sender, id_a) == 0, "name/sender %s %s", info.name, info.sender);
    CHECK(info.dtype == TP_F32 && info.rank == 2 && info.shape[0] == 512 && info.shape[1] == 512, "dtype/shape");
    CHECK(info.requires_grad == 1 && info.data_len == N * sizeof(float), "grad/len");
    CHECK(memcmp(info.data, values, N * sizeof(float)) == 0, "payload bytes");
    const char *k, *v;
    CHECK(info.metadata_count == 1 && tp_tensor_get_metadata(got, 0, &k, &v) == TP_OK && !strcmp(k, "step") && !strcmp(v, "42"), "metadata");
    CHECK(tp_tensor_get_metadata(got, 1, &k, &v) == TP_ERR_INVALID_ARGUMENT, "metadata index out of range");
    tp_tensor_free(got);
    CHECK(tp_node_try_receive(b, &got) == TP_EMPTY && got == NULL, "queue empty");

    /* Pull: b serves its memory in place; a pulls it; a missing name is TP_ERR_NOT_FOUND. */
    int64_t small_shape[1] = {4};
    int32_t ints[4] = {1, -2, 3, -4};
    tp_tensor_view served = {TP_I32, 1, small_shape, ints, sizeof ints, 0, 0, NULL, NULL};
    CHECK(tp_node_register(b, "ints", &served, on_release, NULL) == TP_OK, "register");
    op pull = {0};
    sem_init(&pull.done, 0, 0);
    CHECK(tp_node_request(a, ticket, "ints", NULL, on_done, &pull) == TP_OK, "request");
    CHECK(wait_for(&pull.done) && pull.status == TP_OK && pull.tensor, "pull completes: %s", pull.error);
    CHECK(tp_tensor_get_info(pull.tensor, &info) == TP_OK && info.dtype == TP_I32 && info.data_len == sizeof ints &&
          memcmp(info.data, ints, sizeof ints) == 0, "pulled bytes");
    tp_tensor_free(pull.tensor);
    op missing = {0};
    sem_init(&missing.done, 0, 0);
    CHECK(tp_node_request(a, ticket, "nope", NULL, on_done, &missing) == TP_OK, "request missing");
    CHECK(wait_for(&missing.done) && missing.status == TP_ERR_NOT_FOUND && missing.tensor == NULL, "not found: %d", missing.status);
    int32_t removed = 0;
    CHECK(tp_node_unregister(b, "ints", &removed) == TP_OK && removed == 1, "unregister");
    CHECK(wait_for(&released) && release_calls == 2, "registered memory released after unregister");

    /* Caller mistakes are return codes, and the callbacks are never called for them. */
    op never = {0};
    CHECK(tp_node_send(a, "tensorp1-not-a-ticket", "x", &view, on_release, NULL, NULL, on_done, &never) == TP_ERR_TICKET, "bad ticket");
    tp_tensor_view wrong = view;
    wrong.data_len -= 4;
    CHECK(tp_node_send(a, ticket, "x", &wrong, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "length vs shape");
    wrong = view;
    wrong.dtype = 99;
    CHECK(tp_node_send(a, ticket, "x", &wrong, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "bad dtype");
    CHECK(tp_node_send(a, ticket, "", &view, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "empty name");
    CHECK(tp_node_send(a, ticket, "x", &view, on_release, NULL, NULL, NULL, NULL) == TP_ERR_INVALID_ARGUMENT, "no completion");
    CHECK(tp_node_send(a, NULL, "x", &view, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "NULL ticket");
    CHECK(tp_node_send(a, ticket, NULL, &view, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "NULL name");
    CHECK(tp_node_send(a, ticket, "x", NULL, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "NULL view");
    CHECK(tp_node_send(NULL, ticket, "x", &view, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "NULL node");
    wrong = view;
    wrong.rank = 65;
    CHECK(tp_node_send(a, ticket, "x", &wrong, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "rank too large");
    wrong = view;
    wrong.data = NULL;
    CHECK(tp_node_send(a, ticket, "x", &wrong, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "NULL data");
    int64_t negative[2] = {-1, 4};
    wrong = view;
    wrong.shape = negative;
    CHECK(tp_node_send(a, ticket, "x", &wrong, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "negative dim");
    int64_t huge[2] = {INT64_MAX, 4};
    wrong = view;
    wrong.shape = huge;
    CHECK(tp_node_send(a, ticket, "x", &wrong, on_release, NULL, NULL, on_done, &never) == TP_ERR_INVALID_ARGUMENT, "element count overflow");
    CHECK(tp_tensor_get_info(NULL, &info) == TP_ERR_INVALID_ARGUMENT, "NULL tensor");
    tp_node_options bad = {0};
    bad.struct_size = 2;
    tp_node *unmade = NULL;
    CHECK(tp_node_create(&bad, &unmade) == TP_ERR_INVALID_ARGUMENT && unmade == NULL, "struct_size too small");
    bad.struct_size = sizeof bad;
    bad.bind_address = "not-an-address";
    CHECK(tp_node_create(&bad, &unmade) == TP_ERR_INVALID_ARGUMENT, "bad bind address");
    CHECK(strstr(tp_last_error(), "not-an-address") != NULL, "error names the value: %s", tp_last_error());
    CHECK(never.calls == 0 && release_calls == 2, "no callback for refused calls");

    /* Completion queue: with NULL callbacks, outcomes and releases arrive as events on the node's queue. */
    CHECK(tp_node_send(a, ticket, "x", &view, NULL, (void *)7, NULL, NULL, (void *)8) == TP_ERR_INVALID_ARGUMENT,
          "NULL callbacks need a queue");
    tp_queue *queue = NULL;
    int32_t fd = -1;
    CHECK(tp_queue_create(&queue, &fd) == TP_OK && fd >= 0, "queue create");
    CHECK(tp_node_set_queue(a, queue) == TP_OK, "set queue");
    CHECK(tp_node_send(a, ticket, "queued", &view, NULL, (void *)7, NULL, NULL, (void *)8) == TP_OK, "queued send");
    CHECK(tp_node_request(a, ticket, "nope", NULL, NULL, (void *)9) == TP_OK, "queued request");
    int completions = 0, releases = 0, not_found = 0;
    for (int round = 0; round < 100 && (completions < 2 || releases < 1); round++) {
        int32_t ready = 0, count = 0;
        CHECK(tp_queue_wait(queue, 20000, &ready) == TP_OK && ready == 1, "queue wait");
        tp_event events[8];
        CHECK(tp_queue_poll(queue, events, 8, &count) == TP_OK, "queue poll");
        for (int i = 0; i < count; i++) {
            if (events[i].kind == TP_EVENT_RELEASE) { releases++; CHECK(events[i].user_data == 7, "release data"); }
            else if (events[i].user_data == 8) { completions++; CHECK(events[i].status == TP_OK && !events[i].error, "queued send ok"); }
            else if (events[i].user_data == 9) { completions++; not_found = events[i].status == TP_ERR_NOT_FOUND && events[i].error; }
        }
    }
    CHECK(completions == 2 && releases == 1 && not_found, "queue events: %d %d %d", completions, releases, not_found);
    CHECK(tp_node_try_receive(b, &got) == TP_OK, "queued tensor arrived");
    tp_tensor_free(got);
    int32_t ready = 1, count = 1;
    tp_event none[1];
    CHECK(tp_queue_poll(queue, none, 1, &count) == TP_OK && count == 0, "queue empty");
    CHECK(tp_queue_wait(queue, 0, &ready) == TP_OK && ready == 0, "queue not ready");
    CHECK(tp_node_set_queue(a, NULL) == TP_OK, "detach queue");
    tp_queue_free(queue);

    /* A pending receive is cancelled by its token; shutdown fails later calls with TP_ERR_SHUTDOWN. */
    tp_cancel *cancel = NULL;
    CHECK(tp_cancel_create(&cancel) == TP_OK, "cancel create");
    op waiting = {0};
    sem_init(&waiting.done, 0, 0);
    CHECK(tp_node_receive(b, cancel, on_done, &waiting) == TP_OK, "receive");
    CHECK(tp_cancel_trigger(cancel) == TP_OK, "trigger");
    CHECK(wait_for(&waiting.done) && waiting.status == TP_ERR_CANCELLED, "cancelled: %d", waiting.status);
    tp_cancel_free(cancel);

    CHECK(tp_node_shutdown(b) == TP_OK && tp_node_shutdown(b) == TP_OK, "shutdown idempotent");
    CHECK(tp_node_try_receive(b, &got) == TP_ERR_SHUTDOWN, "after shutdown");
    tp_node_free(a);
    tp_node_free(b);
    free(values);
    if (failures == 0) printf("abi smoke: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
