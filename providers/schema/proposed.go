package schema

import "github.com/zclconf/go-cty/cty"

// ProposedNew merges configuration with the prior state into the value a
// provider is asked to plan: configured attributes come from config;
// computed attributes left unset in config keep their prior value, or are
// unknown when there is none (a create).
func (b *Block) ProposedNew(prior, config cty.Value) cty.Value {
	if config.IsNull() || !config.IsKnown() {
		return config
	}
	noPrior := prior.IsNull() || !prior.IsKnown()
	attrs := make(map[string]cty.Value, len(b.Attributes)+len(b.BlockTypes))
	cfgType := config.Type()
	for name, a := range b.Attributes {
		cv := cty.NullVal(a.Type)
		if cfgType.HasAttribute(name) {
			cv = config.GetAttr(name)
		}
		pv := cty.NullVal(a.Type)
		if !noPrior {
			pv = prior.GetAttr(name)
		}
		switch {
		case a.Computed && cv.IsNull():
			if noPrior || pv.IsNull() && !a.Optional {
				attrs[name] = cty.UnknownVal(a.Type)
			} else {
				attrs[name] = pv
			}
		default:
			attrs[name] = cv
		}
	}
	for name, nb := range b.BlockTypes {
		if !cfgType.HasAttribute(name) {
			continue
		}
		cv := config.GetAttr(name)
		pv := cty.NullVal(cv.Type())
		if !noPrior {
			pv = prior.GetAttr(name)
		}
		attrs[name] = nb.proposed(pv, cv)
	}
	return cty.ObjectVal(attrs)
}

func (nb *NestedBlock) proposed(prior, config cty.Value) cty.Value {
	if config.IsNull() || !config.IsKnown() {
		return config
	}
	switch nb.Nesting {
	case NestingSingle:
		return nb.Block.ProposedNew(prior, config)
	case NestingList:
		if config.LengthInt() == 0 {
			return config
		}
		var priorElems []cty.Value
		if !prior.IsNull() && prior.IsKnown() {
			priorElems = prior.AsValueSlice()
		}
		elems := config.AsValueSlice()
		out := make([]cty.Value, len(elems))
		for i, ce := range elems {
			pe := cty.NullVal(ce.Type())
			if i < len(priorElems) {
				pe = priorElems[i]
			}
			out[i] = nb.Block.ProposedNew(pe, ce)
		}
		if config.Type().IsTupleType() {
			return cty.TupleVal(out)
		}
		return cty.ListVal(out)
	}
	return config
}
