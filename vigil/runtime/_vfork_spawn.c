/*
 * vigil.runtime._vfork_spawn: start a child with a parent-death signal, at vfork speed.
 *
 * Only code that runs in the child between fork and exec can ask for a parent-death signal
 * (prctl PR_SET_PDEATHSIG). From Python that means os.fork(), which copies the page tables
 * of the whole daemon and runs interpreter code in the child: milliseconds per spawn. Here
 * the child is made with vfork() and runs only async-signal-safe system calls: reset the
 * signals the daemon catches or ignores, lead a process group of its own, take its three
 * descriptors, ask for the parent-death signal (then check that the parent is still the
 * daemon, so a daemon dying meanwhile cannot be missed), set the program's resource limits,
 * scheduling priority and OOM score adjustment (setrlimit, setpriority, open/write/close of
 * /proc/self/oom_score_adj), unblock every signal, exec. The
 * parent resumes once the child has exec'd or failed; a failure comes back as
 * (step, errno) through a close-on-exec pipe.
 *
 * All signals are blocked across vfork, so none can run a handler of the daemon's in the
 * child while it shares the daemon's memory; they stay pending until the child's own
 * handlers are the defaults, then reach the program.
 */
#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

enum { STEP_SETPGID = 1, STEP_DUP2, STEP_PDEATHSIG, STEP_PARENT_GONE, STEP_EXEC, STEP_NICE,
       STEP_OOM_SCORE_ADJ };
/* a failed setrlimit is step STEP_RLIMIT + the limit's index in the list it was given */
#define STEP_RLIMIT 16
#define NO_SETTING INT_MIN /* nice or oom_score_adj not asked for */

/* What the child sets on itself before exec, beyond descriptors and signals. */
struct settings {
    const int *resources;            /* RLIMIT_* numbers */
    const struct rlimit *limits;     /* their soft and hard values */
    Py_ssize_t limit_count;
    int nice;                        /* NO_SETTING: leave it */
    int oom_score_adj;               /* NO_SETTING: leave it */
};

static void free_strings(char **strings)
{
    if (strings == NULL)
        return;
    for (char **each = strings; *each != NULL; each++)
        PyMem_RawFree(*each);
    PyMem_RawFree(strings);
}

/* A NULL-terminated copy of a sequence of bytes objects, or NULL with an exception set. */
static char **copy_strings(PyObject *sequence, const char *what)
{
    PyObject *fast = PySequence_Fast(sequence, what);
    if (fast == NULL)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    char **strings = PyMem_RawCalloc((size_t)count + 1, sizeof(char *));
    if (strings == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        char *data;
        Py_ssize_t size;
        if (PyBytes_AsStringAndSize(item, &data, &size) < 0
            || (strings[i] = PyMem_RawMalloc((size_t)size + 1)) == NULL) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            free_strings(strings);
            Py_DECREF(fast);
            return NULL;
        }
        memcpy(strings[i], data, (size_t)size + 1);
    }
    Py_DECREF(fast);
    return strings;
}

static void report_and_exit(int pipe_fd, int step, int error)
{
    int message[2] = {step, error};
    ssize_t ignored = write(pipe_fd, message, sizeof(message));
    (void)ignored;
    _exit(127);
}

/* Write a number in decimal without snprintf, which is not async-signal-safe. */
static int write_number(int fd, int number)
{
    char text[16];
    size_t at = sizeof(text);
    unsigned int magnitude = number < 0 ? 0u - (unsigned int)number : (unsigned int)number;
    do {
        text[--at] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0);
    if (number < 0)
        text[--at] = '-';
    ssize_t size = (ssize_t)(sizeof(text) - at);
    return write(fd, text + at, (size_t)size) == size ? 0 : -1;
}

/* Limits, priority and OOM score adjustment, in the child; the failing step, or 0. */
static int apply_settings(const struct settings *settings)
{
    for (Py_ssize_t i = 0; i < settings->limit_count; i++)
        if (setrlimit(settings->resources[i], &settings->limits[i]) < 0)
            return STEP_RLIMIT + (int)i;
    if (settings->nice != NO_SETTING && setpriority(PRIO_PROCESS, 0, settings->nice) < 0)
        return STEP_NICE;
    if (settings->oom_score_adj != NO_SETTING) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return STEP_OOM_SCORE_ADJ;
        int failed = write_number(fd, settings->oom_score_adj);
        int saved = errno;
        close(fd);
        errno = saved;
        if (failed < 0)
            return STEP_OOM_SCORE_ADJ;
    }
    return 0;
}

/* The child, sharing the parent's memory until it execs: system calls only. */
static void become(const char *path, char **argv, char **envp, const int fds[3],
                   const int *resets, Py_ssize_t reset_count, int death_signal, pid_t parent,
                   const struct settings *settings, int report)
{
    struct sigaction default_action;
    memset(&default_action, 0, sizeof(default_action));
    default_action.sa_handler = SIG_DFL;
    for (Py_ssize_t i = 0; i < reset_count; i++)
        sigaction(resets[i], &default_action, NULL);
    if (setpgid(0, 0) < 0)
        report_and_exit(report, STEP_SETPGID, errno);
    for (int target = 0; target < 3; target++) {
        if (fds[target] == target) {
            if (fcntl(target, F_SETFD, 0) < 0)
                report_and_exit(report, STEP_DUP2, errno);
        } else if (dup2(fds[target], target) < 0) {
            report_and_exit(report, STEP_DUP2, errno);
        }
    }
    if (death_signal > 0) {
        if (prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) < 0)
            report_and_exit(report, STEP_PDEATHSIG, errno);
        if (getppid() != parent)
            report_and_exit(report, STEP_PARENT_GONE, 0);
    }
    int failed_step = apply_settings(settings);
    if (failed_step != 0)
        report_and_exit(report, failed_step, errno);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
    report_and_exit(report, STEP_EXEC, errno);
}

/* An int argument that may be None (then NO_SETTING); -1 with an exception on error. */
static int optional_int(PyObject *object, int *value)
{
    if (object == Py_None) {
        *value = NO_SETTING;
        return 0;
    }
    long number = PyLong_AsLong(object);
    if (number == -1 && PyErr_Occurred())
        return -1;
    if (number <= INT_MIN || number > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "setting out of range");
        return -1;
    }
    *value = (int)number;
    return 0;
}

/* The (resource, soft, hard) triples of `sequence` (a negative value is RLIM_INFINITY) into
 * freshly allocated arrays; -1 with an exception set on error. */
static int copy_limits(PyObject *sequence, int **resources, struct rlimit **limits,
                       Py_ssize_t *count)
{
    PyObject *fast = PySequence_Fast(sequence, "limits must be a sequence");
    if (fast == NULL)
        return -1;
    *count = PySequence_Fast_GET_SIZE(fast);
    *resources = PyMem_RawCalloc((size_t)*count + 1, sizeof(int));
    *limits = PyMem_RawCalloc((size_t)*count + 1, sizeof(struct rlimit));
    if (*resources == NULL || *limits == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < *count; i++) {
        int resource;
        long long soft, hard;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "iLL;a limit is "
                              "(resource, soft, hard)", &resource, &soft, &hard)) {
            Py_DECREF(fast);
            return -1;
        }
        (*resources)[i] = resource;
        (*limits)[i].rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft;
        (*limits)[i].rlim_max = hard < 0 ? RLIM_INFINITY : (rlim_t)hard;
    }
    Py_DECREF(fast);
    return 0;
}

/* spawn(path, argv, envp, fds, death_signal, resets, limits=(), nice=None,
 *       oom_score_adj=None) -> (pid, step, errno)
 * step 0: the child exec'd. Otherwise the child failed at that step and exits 127 (its
 * status still has to be reaped). */
static PyObject *spawn(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *path_object, *argv_object, *envp_object, *resets_object;
    PyObject *limits_object = NULL, *nice_object = Py_None, *oom_object = Py_None;
    int fds[3], death_signal;
    if (!PyArg_ParseTuple(args, "O&OO(iii)iO|OOO", PyUnicode_FSConverter, &path_object,
                          &argv_object, &envp_object, &fds[0], &fds[1], &fds[2],
                          &death_signal, &resets_object, &limits_object, &nice_object,
                          &oom_object))
        return NULL;
    PyObject *result = NULL;
    char **argv = NULL, **envp = NULL;
    int *resets = NULL;
    Py_ssize_t reset_count = 0;
    int report[2] = {-1, -1};
    int *limit_resources = NULL;
    struct rlimit *limit_values = NULL;
    struct settings settings = {NULL, NULL, 0, NO_SETTING, NO_SETTING};
    PyObject *resets_fast = PySequence_Fast(resets_object, "resets must be a sequence");
    if (resets_fast == NULL)
        goto done;
    if ((limits_object != NULL
         && copy_limits(limits_object, &limit_resources, &limit_values, &settings.limit_count)
                < 0)
        || optional_int(nice_object, &settings.nice) < 0
        || optional_int(oom_object, &settings.oom_score_adj) < 0)
        goto done;
    settings.resources = limit_resources;
    settings.limits = limit_values;
    reset_count = PySequence_Fast_GET_SIZE(resets_fast);
    resets = PyMem_RawCalloc((size_t)reset_count + 1, sizeof(int));
    if (resets == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < reset_count; i++) {
        resets[i] = (int)PyLong_AsLong(PySequence_Fast_GET_ITEM(resets_fast, i));
        if (resets[i] == -1 && PyErr_Occurred())
            goto done;
    }
    if ((argv = copy_strings(argv_object, "argv must be a sequence")) == NULL
        || (envp = copy_strings(envp_object, "envp must be a sequence")) == NULL)
        goto done;
    if (pipe2(report, O_CLOEXEC) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto done;
    }
    const char *path = PyBytes_AS_STRING(path_object);
    pid_t parent = getpid();
    sigset_t all, previous;
    sigfillset(&all);
    pid_t pid;
    int saved_errno;
    Py_BEGIN_ALLOW_THREADS
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid = vfork();
    if (pid == 0)
        become(path, argv, envp, fds, resets, reset_count, death_signal, parent, &settings,
               report[1]);
    saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    Py_END_ALLOW_THREADS
    close(report[1]);
    report[1] = -1;
    if (pid < 0) {
        errno = saved_errno;
        PyErr_SetFromErrno(PyExc_OSError);
        goto done;
    }
    int message[2] = {0, 0};
    ssize_t got;
    do {
        got = read(report[0], message, sizeof(message));
    } while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof(message))
        message[0] = message[1] = 0; /* closed at exec: the child runs its program */
    result = Py_BuildValue("(iii)", (int)pid, message[0], message[1]);
done:
    if (report[0] >= 0)
        close(report[0]);
    if (report[1] >= 0)
        close(report[1]);
    free_strings(argv);
    free_strings(envp);
    PyMem_RawFree(resets);
    PyMem_RawFree(limit_resources);
    PyMem_RawFree(limit_values);
    Py_XDECREF(resets_fast);
    Py_DECREF(path_object);
    return result;
}

static PyMethodDef methods[] = {
    {"spawn", spawn, METH_VARARGS,
     "spawn(path, argv, envp, fds, death_signal, resets, limits=(), nice=None, "
     "oom_score_adj=None) -> (pid, step, errno)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef definition = {
    PyModuleDef_HEAD_INIT, "_vfork_spawn", "vfork-speed spawning with a parent-death signal",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__vfork_spawn(void) { return PyModule_Create(&definition); }
