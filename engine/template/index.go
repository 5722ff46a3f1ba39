package template

import (
	"fmt"
	"reflect"
)

// indexFunc is Go's built-in index (index x 1 2 is x[1][2]; a missing key
// of a mapping is nothing) except on text: Go's gives the byte at that
// place as a number, so a macro that reads its arguments as index . 0 and
// index . 1, given one text argument, rendered coalesce(97, 109) for
// "amount", SQL that runs. Indexing text is an error instead, which says
// how a macro's arguments are read.
func indexFunc(item reflect.Value, indexes ...reflect.Value) (reflect.Value, error) {
	item = indirectInterface(item)
	if !item.IsValid() {
		return reflect.Value{}, fmt.Errorf("index of untyped nil")
	}
	for _, index := range indexes {
		index = indirectInterface(index)
		for item.Kind() == reflect.Pointer || item.Kind() == reflect.Interface {
			if item.IsNil() {
				return reflect.Value{}, fmt.Errorf("index of nil pointer")
			}
			item = item.Elem()
		}
		switch item.Kind() {
		case reflect.String:
			text := item.String()
			if r := []rune(text); len(r) > 40 {
				text = string(r[:40]) + "..."
			}
			return reflect.Value{}, fmt.Errorf("index %v of the text %q: text has no items to index (a macro given one argument has it as . itself, and index . 0, index . 1 read the arguments of a macro given several: include \"m\" \"a\" \"b\"; substr 0 1 x cuts text)", printable(index), text)
		case reflect.Array, reflect.Slice:
			x, err := indexArg(index, item.Len())
			if err != nil {
				return reflect.Value{}, err
			}
			item = item.Index(x)
		case reflect.Map:
			key, err := mapKey(index, item.Type().Key())
			if err != nil {
				return reflect.Value{}, err
			}
			if x := item.MapIndex(key); x.IsValid() {
				item = x
			} else {
				item = reflect.Zero(item.Type().Elem())
			}
		default:
			return reflect.Value{}, fmt.Errorf("can't index item of type %s", item.Type())
		}
	}
	return item, nil
}

func printable(v reflect.Value) any {
	if !v.IsValid() {
		return "nil"
	}
	return v.Interface()
}

// indirectInterface is text/template's: the value inside an interface.
func indirectInterface(v reflect.Value) reflect.Value {
	if v.Kind() != reflect.Interface {
		return v
	}
	if v.IsNil() {
		return reflect.Value{}
	}
	return v.Elem()
}

// indexArg is text/template's check of a list index.
func indexArg(index reflect.Value, n int) (int, error) {
	var x int64
	switch index.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x = index.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x = int64(index.Uint())
	case reflect.Invalid:
		return 0, fmt.Errorf("cannot index slice/array with nil")
	default:
		return 0, fmt.Errorf("cannot index slice/array with type %s", index.Type())
	}
	if x < 0 || x >= int64(n) {
		return 0, fmt.Errorf("index %d of a list of %d: past its end", x, n)
	}
	return int(x), nil
}

// mapKey is text/template's conversion of an index to a mapping's key type.
func mapKey(v reflect.Value, t reflect.Type) (reflect.Value, error) {
	if !v.IsValid() {
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, fmt.Errorf("value is nil; should be of type %s", t)
	}
	if v.Type().AssignableTo(t) {
		return v, nil
	}
	if intLike(v.Kind()) && intLike(t.Kind()) && v.Type().ConvertibleTo(t) {
		return v.Convert(t), nil
	}
	return reflect.Value{}, fmt.Errorf("index of a dict with the key %v, which is %s: the dict's keys are %s (index <dict> \"key\")", printable(v), goTypeWords(v.Type().String()), goTypeWords(t.String()))
}

func intLike(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}
