/* Rows in COPY's binary format, appended to a chunk: what bot.storage.pg_copy.binary_chunks
 * makes in Python (per field: a list comprehension, an encoder call, a join), for a fraction of
 * its cost a row. tests/storage/test_pg_copy.py holds the two to the same bytes, chunk by chunk.
 *
 * fill(rows, kinds, encoders, size, head, end) -> (chunk, ended): the bytes ``head``, then rows from
 * the iterator ``rows`` until a row brings the chunk to ``size`` bytes (ended False: more rows may
 * follow) or the rows end (ended True, and the bytes ``end`` after them). Each row is its field count, then each field its length (-1 for NULL) and
 * bytes, as ``kinds`` says (one byte a column): 't' text as its UTF-8, 'q' bigint and 'i' integer
 * as 8 and 4 big-endian bytes, 'r' the bytes given. A value of another type, or a number out of
 * its column's range, is encoded by the column's Python encoder in ``encoders``, which gives the
 * Python path's bytes or raises its error.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The chunk being made: grown by doubling, copied once into the bytes sent. */
typedef struct {
    char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
} Chunk;

/* Room for ``size`` more bytes at the chunk's end: where they go, or NULL with an error set. */
static char *
grow(Chunk *chunk, Py_ssize_t size)
{
    if (chunk->size + size > chunk->capacity) {
        Py_ssize_t capacity = chunk->capacity * 2;
        if (capacity < chunk->size + size)
            capacity = chunk->size + size;
        char *data = PyMem_Realloc(chunk->data, (size_t)capacity);
        if (data == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        chunk->data = data;
        chunk->capacity = capacity;
    }
    char *at = chunk->data + chunk->size;
    chunk->size += size;
    return at;
}

static char *
put_word(char *at, uint32_t word)
{
    at[0] = (char)(word >> 24);
    at[1] = (char)(word >> 16);
    at[2] = (char)(word >> 8);
    at[3] = (char)word;
    return at + 4;
}

/* One field as it goes out: ``data`` (``size`` bytes) after its length, or NULL (no bytes), or a
 * number, or bytes that hold their length already (a Python encoder's). ``owned`` keeps what was
 * made for it alive until the row is written. */
typedef struct {
    enum { FIELD_NULL, FIELD_BYTES, FIELD_NUMBER, FIELD_ENCODED } form;
    const char *data;
    Py_ssize_t size;
    long long number;
    PyObject *owned;
} Field;

/* The field's form and size, or -1 with an error set. */
static int
prepare(Field *field, char kind, PyObject *encoder, PyObject *value)
{
    field->owned = NULL;
    if (value == Py_None) {
        field->form = FIELD_NULL;
        return 0;
    }
    if (kind == 't' && PyUnicode_Check(value)) {
        field->form = FIELD_BYTES;
        if (PyUnicode_IS_ASCII(value)) {
            field->data = (const char *)PyUnicode_1BYTE_DATA(value);
            field->size = PyUnicode_GET_LENGTH(value);
            return 0;
        }
        /* Encoded apart, not through PyUnicode_AsUTF8AndSize, which would keep a UTF-8 copy on
         * every paper's str for as long as the paper lives. A lone surrogate raises as
         * str.encode does. */
        field->owned = PyUnicode_AsUTF8String(value);
        if (field->owned == NULL)
            return -1;
        field->data = PyBytes_AS_STRING(field->owned);
        field->size = PyBytes_GET_SIZE(field->owned);
        return 0;
    }
    if (kind == 'r' && PyBytes_CheckExact(value)) {
        field->form = FIELD_BYTES;
        field->data = PyBytes_AS_STRING(value);
        field->size = PyBytes_GET_SIZE(value);
        return 0;
    }
    if ((kind == 'q' || kind == 'i') && PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (number == -1 && PyErr_Occurred())
            return -1;
        if (overflow == 0 && (kind == 'q' || (number >= INT32_MIN && number <= INT32_MAX))) {
            field->form = FIELD_NUMBER;
            field->number = number;
            field->size = kind == 'q' ? 8 : 4;
            return 0;
        }
    }
    /* Anything else as the column's Python encoder makes it (or fails to). */
    field->owned = PyObject_CallOneArg(encoder, value);
    if (field->owned == NULL)
        return -1;
    if (!PyBytes_Check(field->owned)) {
        PyErr_SetString(PyExc_TypeError, "an encoder must return bytes");
        return -1;
    }
    field->form = FIELD_ENCODED;
    field->data = PyBytes_AS_STRING(field->owned);
    field->size = PyBytes_GET_SIZE(field->owned);
    return 0;
}

static Py_ssize_t
written_size(const Field *field)
{
    return field->form == FIELD_NULL ? 4 : field->form == FIELD_ENCODED ? field->size : 4 + field->size;
}

static char *
put_field(char *at, const Field *field)
{
    switch (field->form) {
    case FIELD_NULL:
        return put_word(at, 0xffffffffu);
    case FIELD_NUMBER:
        at = put_word(at, (uint32_t)field->size);
        for (Py_ssize_t i = 0; i < field->size; i++)
            at[i] = (char)((unsigned long long)field->number >> (8 * (field->size - 1 - i)));
        return at + field->size;
    case FIELD_BYTES:
        at = put_word(at, (uint32_t)field->size);
        /* fall through */
    default:
        memcpy(at, field->data, (size_t)field->size);
        return at + field->size;
    }
}

/* The row's fields are made first, then written with one growth of the chunk. */
static int
put_row(Chunk *chunk, PyObject *row, const char *kinds, Py_ssize_t columns, PyObject *encoders, Field *fields)
{
    PyObject *sequence = PySequence_Fast(row, "a row must be a sequence");
    if (sequence == NULL)
        return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
    if (count != columns) {
        /* What zip(encoders, row, strict=True) says. */
        PyErr_Format(PyExc_ValueError, "zip() argument 2 is %s than argument 1",
                     count < columns ? "shorter" : "longer");
        Py_DECREF(sequence);
        return -1;
    }
    PyObject **values = PySequence_Fast_ITEMS(sequence);
    int done = 0;
    Py_ssize_t prepared = 0, size = 2;
    for (; prepared < columns; prepared++) {
        if (prepare(&fields[prepared], kinds[prepared], PyTuple_GET_ITEM(encoders, prepared), values[prepared]) < 0) {
            Py_XDECREF(fields[prepared].owned);
            done = -1;
            break;
        }
        size += written_size(&fields[prepared]);
    }
    if (done == 0) {
        char *at = grow(chunk, size);
        if (at == NULL) {
            done = -1;
        } else {
            *at++ = (char)(columns >> 8);
            *at++ = (char)columns;
            for (Py_ssize_t i = 0; i < columns; i++)
                at = put_field(at, &fields[i]);
        }
    }
    for (Py_ssize_t i = 0; i < prepared; i++)
        Py_XDECREF(fields[i].owned);
    Py_DECREF(sequence);
    return done;
}

static PyObject *
fill(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 6 || !PyIter_Check(args[0]) || !PyBytes_Check(args[1]) || !PyTuple_Check(args[2]) ||
        PyTuple_GET_SIZE(args[2]) != PyBytes_GET_SIZE(args[1]) || !PyBytes_Check(args[4]) ||
        !PyBytes_Check(args[5])) {
        PyErr_SetString(PyExc_TypeError,
                        "fill(rows: iterator, kinds: bytes, encoders: tuple, size: int, head: bytes, end: bytes)");
        return NULL;
    }
    PyObject *rows = args[0], *encoders = args[2], *head = args[4], *end = args[5];
    const char *kinds = PyBytes_AS_STRING(args[1]);
    Py_ssize_t columns = PyBytes_GET_SIZE(args[1]);
    for (Py_ssize_t i = 0; i < columns; i++) {
        if (kinds[i] == 0 || !strchr("tqir", kinds[i])) {
            PyErr_SetString(PyExc_ValueError, "a kind is one of b'tqir'");
            return NULL;
        }
    }
    Py_ssize_t size = PyLong_AsSsize_t(args[3]);
    if (size == -1 && PyErr_Occurred())
        return NULL;
    Field *fields = PyMem_Malloc(sizeof(Field) * (size_t)(columns + 1));
    /* Room for the chunk and the row that passes its size, as a rule: one growth at most. */
    Chunk chunk = {PyMem_Malloc((size_t)(size > 0 ? 2 * size : 1) + 4096), 0, (size > 0 ? 2 * size : 1) + 4096};
    PyObject *result = NULL;
    char *at;
    if (fields == NULL || chunk.data == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if ((at = grow(&chunk, PyBytes_GET_SIZE(head))) == NULL)
        goto done;
    memcpy(at, PyBytes_AS_STRING(head), (size_t)PyBytes_GET_SIZE(head));
    /* Checked after each row, as the Python encoder does: a chunk holds at least one row. */
    int ended = 0;
    for (;;) {
        PyObject *row = PyIter_Next(rows);
        if (row == NULL) {
            if (PyErr_Occurred())
                goto done;
            ended = 1;
            break;
        }
        int put = put_row(&chunk, row, kinds, columns, encoders, fields);
        Py_DECREF(row);
        if (put < 0)
            goto done;
        if (chunk.size >= size)
            break;
    }
    if (ended) {
        if ((at = grow(&chunk, PyBytes_GET_SIZE(end))) == NULL)
            goto done;
        memcpy(at, PyBytes_AS_STRING(end), (size_t)PyBytes_GET_SIZE(end));
    }
    PyObject *data = PyBytes_FromStringAndSize(chunk.data, chunk.size);
    if (data != NULL)
        result = Py_BuildValue("(NO)", data, ended ? Py_True : Py_False);
done:
    PyMem_Free(fields);
    PyMem_Free(chunk.data);
    return result;
}

static PyMethodDef methods[] = {
    {"fill", (PyCFunction)(void (*)(void))fill, METH_FASTCALL,
     "fill(rows, kinds, encoders, size, head, end) -> (chunk, whether the rows have ended)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_pg_copy", .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__pg_copy(void)
{
    return PyModule_Create(&module);
}
