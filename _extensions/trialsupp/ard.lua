-- trialsupp: {{< ard ID >}} and {{< results NAME >}} shortcodes.
--
-- Reads the results store _results/ard.json next to the report (report/<study>/_results/,
-- written by trialsupp's staging step: each report has its own, so one `quarto render`
-- can publish several studies)
--   {"run": {...}, "rows": [{"id": ..., "stat_fmt": ..., ...}, ...]}
-- and returns the row's formatted value: in HTML a focusable span that the
-- provenance popup (provenance.js) reads, in every other format plain text.
-- An unknown id (or a row without a formatted value) raises an error, so a
-- missing number fails the render instead of printing a blank.

local index = nil

local function results_dir()
  return pandoc.path.join({ pandoc.path.directory(quarto.doc.input_file), "_results" })
end

local full = false

local function read_rows(name)
  local path = pandoc.path.join({ results_dir(), name })
  local handle = io.open(path, "r")
  if handle == nil then
    return nil, path
  end
  local text = handle:read("a")
  handle:close()
  local store = quarto.json.decode(text)
  if type(store) ~= "table" or type(store.rows) ~= "table" then
    error("trialsupp ard shortcode: " .. path .. " has no 'rows' list")
  end
  index = {}
  for _, row in ipairs(store.rows) do
    if row.id ~= nil then
      index[row.id] = row
    end
  end
  return index, path
end

-- The formatted values first (_results/ard-values.json, {id: stat_fmt} of the rows the
-- report shows, written by trialsupp's staging step: 20 times smaller than the rows);
-- then the rows the report shows (_results/ard-shown.json), and the whole store only
-- for an id not among them (and for the error messages).
local values = nil

local function formatted(id)
  if values == nil then
    local handle = io.open(pandoc.path.join({ results_dir(), "ard-values.json" }), "r")
    values = {}
    if handle ~= nil then
      local decoded = quarto.json.decode(handle:read("a"))
      handle:close()
      if type(decoded) == "table" then
        values = decoded
      end
    end
  end
  local text = values[id]
  if type(text) == "string" then
    return text
  end
  return nil
end

local function load_store(id)
  if index == nil and read_rows("ard-shown.json") == nil then
    full = true
    local rows, path = read_rows("ard.json")
    if rows == nil then
      error("trialsupp ard shortcode: cannot read the results store " .. path)
    end
  end
  if index[id] == nil and not full then
    full = true
    read_rows("ard.json")
  end
  return index
end

local function html_escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function ard(args, kwargs, meta, raw_args, context)
  if #args ~= 1 then
    error("trialsupp ard shortcode: expected exactly one ARD id, got " .. tostring(#args))
  end
  local id = pandoc.utils.stringify(args[1])
  local text = formatted(id)
  if text == nil then
    local row = load_store(id)[id]
    if row == nil then
      error("trialsupp ard shortcode: unknown ARD id '" .. id .. "' (not in _results/ard.json)")
    end
    if type(row.stat_fmt) ~= "string" then
      error("trialsupp ard shortcode: ARD row '" .. id .. "' has no formatted value (stat_fmt)")
    end
    text = row.stat_fmt
  end
  local is_html = quarto.doc.is_format("html")
  if is_html then
    local span = '<span class="ts-stat" data-ard="' .. html_escape(id) .. '" tabindex="0">'
      .. html_escape(text) .. '</span>'
    if context == "text" then
      return span
    end
    return pandoc.RawInline("html", span)
  end
  if context == "text" then
    return text
  end
  return pandoc.Str(text)
end

-- {{< results NAME >}} on a line of its own: the generated markdown _results/NAME.qmd
-- (parameters, provenance). A shortcode, not an include: Quarto reads every include
-- when it scans the project, before the pre-render script has written _results/.
-- Its {{< ard ID >}} shortcodes are expanded here, then Quarto parses the markdown.
local function results(args)
  if #args ~= 1 then
    error("trialsupp results shortcode: expected one name (parameters, provenance)")
  end
  local name = pandoc.utils.stringify(args[1])
  local path = pandoc.path.join({ results_dir(), name .. ".qmd" })
  local handle = io.open(path, "r")
  if handle == nil then
    error("trialsupp results shortcode: " .. path .. " is missing (render with trialsupp, or "
      .. "quarto render in a trialsupp project: its pre-render script writes it)")
  end
  local text = handle:read("a")
  handle:close()
  text = text:gsub("{{<%s*ard%s+([^%s>]+)%s*>}}", function(id)
    local value = ard({ id }, {}, nil, nil, "text")
    if quarto.doc.is_format("html") then
      return "`" .. value .. "`{=html}"     -- a raw inline, as the shortcode itself returns
    end
    return value
  end)
  return quarto.utils.string_to_blocks(text)
end

return {
  ["ard"] = ard,
  ["results"] = results,
}
