//! Fields of a msgspec `Struct` read from their slots. A Struct keeps each field in a
//! slot of the object, at the offset its class's member descriptor names (as
//! `__slots__` classes do); reading that slot is one load, where an attribute lookup
//! costs ~25 ns, and the order path reads some 30 fields per order. The offsets are
//! found once, through CPython's documented `PyMemberDef`; an object of any other class
//! (a subclass, a lookalike) or with an unset slot is read attribute by attribute.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};

/// The fields `names` of objects of the class `module.class` (read from their slots),
/// or of any object (by attribute).
pub(crate) struct StructFields<const N: usize> {
    module: &'static str,
    class: &'static str,
    names: [&'static str; N],
    layout: PyOnceLock<Layout<N>>,
}

struct Layout<const N: usize> {
    names: [Py<PyString>; N],
    class: Py<PyType>,
    /// Each field's slot; None when a field is not an object slot of the class.
    offsets: Option<[isize; N]>,
}

impl<const N: usize> StructFields<N> {
    pub(crate) const fn new(module: &'static str, class: &'static str, names: [&'static str; N]) -> Self {
        StructFields {
            module,
            class,
            names,
            layout: PyOnceLock::new(),
        }
    }

    /// The fields of `object`, in the order of the names.
    pub(crate) fn read<'py>(&self, object: &Bound<'py, PyAny>) -> PyResult<[Bound<'py, PyAny>; N]> {
        let py = object.py();
        let layout = self.layout.get_or_try_init(py, || {
            let class = py.import(self.module)?.getattr(self.class)?;
            Layout::of(class.cast::<PyType>()?, &self.names)
        })?;
        if let Some(offsets) = &layout.offsets {
            if object.get_type().is(layout.class.bind(py)) {
                // SAFETY: `object`'s exact class is the one whose descriptors gave the offsets.
                if let Some(fields) = unsafe { read_slots(object, offsets) } {
                    return Ok(fields);
                }
            }
        }
        let fields = layout
            .names
            .iter()
            .map(|name| object.getattr(name.bind(py)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(fields.try_into().unwrap_or_else(|_| unreachable!("one per name")))
    }
}

impl<const N: usize> Layout<N> {
    fn of(class: &Bound<'_, PyType>, names: &[&'static str; N]) -> PyResult<Self> {
        let py = class.py();
        let mut offsets = [0isize; N];
        let mut slotted = true;
        for (offset, name) in offsets.iter_mut().zip(names) {
            match slot_offset(&class.getattr(*name)?) {
                Some(found) => *offset = found,
                None => slotted = false,
            }
        }
        Ok(Layout {
            names: names.map(|name| PyString::intern(py, name).unbind()),
            class: class.clone().unbind(),
            offsets: slotted.then_some(offsets),
        })
    }
}

/// The offset of the object slot `descriptor` (a class attribute) reads; None when it
/// is not a member descriptor of an object field.
fn slot_offset(descriptor: &Bound<'_, PyAny>) -> Option<isize> {
    let member_type = std::ptr::addr_of_mut!(ffi::PyMemberDescr_Type);
    if descriptor.get_type().as_ptr() != member_type.cast() {
        return None;
    }
    // SAFETY: the object is a member descriptor, whose `d_member` CPython keeps alive
    // with its class.
    let member = unsafe { &*(*descriptor.as_ptr().cast::<ffi::PyMemberDescrObject>()).d_member };
    (member.type_code == ffi::Py_T_OBJECT_EX).then_some(member.offset)
}

/// # Safety
/// `offsets` must be object slots of `object`'s exact class.
unsafe fn read_slots<'py, const N: usize>(
    object: &Bound<'py, PyAny>,
    offsets: &[isize; N],
) -> Option<[Bound<'py, PyAny>; N]> {
    let base = object.as_ptr().cast::<u8>();
    let pointers = offsets.map(|offset| *base.offset(offset).cast::<*mut ffi::PyObject>());
    if pointers.iter().any(|p| p.is_null()) {
        return None; // an unset field: its lookup raises the AttributeError
    }
    Some(pointers.map(|p| Bound::from_borrowed_ptr(object.py(), p)))
}

/// A `str` field's text (an `OrderType` or `Side` member is a `str` too).
pub(crate) fn text<'a>(value: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    value.cast::<PyString>()?.to_str()
}

/// The text of a `str | None` field.
pub(crate) fn optional_text<'a>(value: &'a Bound<'_, PyAny>) -> PyResult<Option<&'a str>> {
    if value.is_none() {
        return Ok(None);
    }
    text(value).map(Some)
}
