-- trialsupp: project metadata as the built-in publisher reads it. Runs at `pre-ast`,
-- before Quarto reads its options.
--
-- 1. `crossref: title-delim: "."` stays a full stop. Quarto rewrites every string of
--    the project's _quarto.yml that names an existing path relative to the document,
--    so "." (the project folder) arrives in report/<study>/index.qmd as "../.." and
--    captions read "eTable 1../..".
-- 2. The report's front-matter `trialsupp:` map is merged into the project's and the
--    study's (_results/trialsupp.json next to the report, written by trialsupp's staging step: citation,
--    statement, simulated flag, ...); Quarto lets the front-matter map replace the
--    project map as a whole.

local function project_meta()
  local dir = quarto.project and quarto.project.directory
  if dir == nil then
    return nil
  end
  local handle = io.open(pandoc.path.join({ dir, "_quarto.yml" }), "r")
  if handle == nil then
    return nil
  end
  local text = handle:read("a")
  handle:close()
  return pandoc.read("---\n" .. text .. "\n---\n", "markdown").meta
end

local function fix_title_delim(meta)
  local crossref = meta.crossref
  if crossref == nil or crossref["title-delim"] == nil then
    return false
  end
  local delim = pandoc.utils.stringify(crossref["title-delim"])
  local offset = quarto.project.offset
  if offset ~= nil and offset ~= "." and delim == offset then
    crossref["title-delim"] = pandoc.MetaInlines({ pandoc.Str(".") })
    meta.crossref = crossref
    return true
  end
  return false
end

local function study_meta()
  local dir = pandoc.path.directory(quarto.doc.input_file)
  local handle = io.open(pandoc.path.join({ dir, "_results", "trialsupp.json" }), "r")
  if handle == nil then
    return nil
  end
  local text = handle:read("a")
  handle:close()
  -- JSON is YAML: read it as metadata, as Quarto reads _quarto.yml
  return pandoc.read("---\ntrialsupp: " .. text .. "\n---\n", "markdown").meta.trialsupp
end

local function merge_trialsupp(meta)
  local doc_map = meta.trialsupp or pandoc.MetaMap({})
  local changed = false
  local project = project_meta()
  for _, fallback in ipairs({ project and project.trialsupp, study_meta() }) do
    if fallback ~= nil then
      for key, value in pairs(fallback) do
        if doc_map[key] == nil then
          doc_map[key] = value
          changed = true
        end
      end
    end
  end
  if changed then
    meta.trialsupp = doc_map
  end
  return changed
end

function Meta(meta)
  local a = fix_title_delim(meta)
  local b = merge_trialsupp(meta)
  if a or b then
    return meta
  end
  return nil
end
