module Inventory exposing (Item, Model, Msg(..), init, update, view)

import Dict exposing (Dict)
import Html exposing (Html, button, div, li, text, ul)
import Html.Events exposing (onClick)


-- MODEL


type alias Item =
    { sku : String
    , name : String
    , quantity : Int
    , price : Float
    }


type Status
    = InStock
    | Low
    | Empty


type alias Model =
    { items : Dict String Item
    , error : Maybe String
    }


init : Model
init =
    { items =
        Dict.fromList
            [ ( "A-1", Item "A-1" "Bolt" 120 0.25 )
            , ( "B-2", Item "B-2" "Hinge" 4 3.5 )
            ]
    , error = Nothing
    }


status : Item -> Status
status item =
    if item.quantity <= 0 then
        Empty

    else if item.quantity < 10 then
        Low

    else
        InStock



-- UPDATE


type Msg
    = Adjust String Int
    | Clear


update : Msg -> Model -> Model
update msg model =
    case msg of
        Adjust sku delta ->
            case Dict.get sku model.items of
                Just item ->
                    let
                        updated =
                            { item | quantity = max 0 (item.quantity + delta) }
                    in
                    { model | items = Dict.insert sku updated model.items, error = Nothing }

                Nothing ->
                    { model | error = Just ("unknown sku: " ++ sku) }

        Clear ->
            { model | items = Dict.empty }



-- VIEW


statusLabel : Status -> String
statusLabel s =
    case s of
        InStock ->
            "in stock"

        Low ->
            "low"

        Empty ->
            "empty"


viewItem : Item -> Html Msg
viewItem item =
    li []
        [ text (item.name ++ ": " ++ String.fromInt item.quantity ++ " (" ++ statusLabel (status item) ++ ")")
        , button [ onClick (Adjust item.sku 1) ] [ text "+" ]
        , button [ onClick (Adjust item.sku -1) ] [ text "-" ]
        ]


view : Model -> Html Msg
view model =
    div []
        [ ul [] (List.map viewItem (Dict.values model.items))
        , model.error |> Maybe.map text |> Maybe.withDefault (text "")
        , button [ onClick Clear ] [ text "Clear" ]
        ]
